"""Searched update schemes against the published presets at the same memory (issue 17).

For each chosen zoo model and published preset: the preset is compiled and its planned total
SRAM taken as the budget; tt-search-scheme's search (tt/search.py) runs under that budget on
Fashion-MNIST (contribution runs on 500 training images, validation on 500 others, both apart
from bench/accuracy.py's images); last-k at equal memory is the largest k whose compiled total
SRAM fits. The three schemes are then trained with bench/accuracy.py's protocol (1000 images x
3 epochs, seeds 0-2, int8+QAS, test accuracy on 2000 test images) at one rate (--lr). With
--schedule cosine every run, the search's own included, takes the rate down a cosine to 0 (its
own table). Trials are cached (build/), so an interrupted run resumes. Writes the `search` (or
`search-cosine`) section of docs/benchmarks.md.

With --scaling it instead times the whole search for the first preset from an empty trial cache
with 1 worker (in process) and with 2 Ray workers, and writes the `search-scaling` section.

Each preset's rows are kept in build/search/rows.json, so presets benched by separate runs share
the table; --table only rewrites it from them.

Usage: python -m bench.search [--presets mcunet-5fps/99kb ...] [--workers N] [--lr 0.001]
                              [--schedule cosine]
       python -m bench.search --table [--schedule cosine]
       python -m bench.search --scaling [--presets mcunet-5fps/99kb]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

from bench.accuracy import CACHE, Cache, Setup, Trial, run_all
from bench.report import machine, markdown_table, write_section

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "build" / "search"
ROWS = WORK / "rows.json"
SEARCH_IMAGES = (2000, 2500, 3000)  # contribution training [2000, 2500), validation [2500, 3000)


def _search_data(model):
    from tt.search import Data
    from ttdialect.datasets import load_fashion_mnist, model_input

    scale, zero_point = model.training_step("bias-only").input_quantization
    x, y = load_fashion_mnist("train", SEARCH_IMAGES[2])
    images = model_input(x[SEARCH_IMAGES[0] :], model.image_shape, scale, zero_point)
    labels = y[SEARCH_IMAGES[0] :]
    split = SEARCH_IMAGES[1] - SEARCH_IMAGES[0]
    return Data((images[:split], labels[:split]), (images[split:], labels[split:]))


def _scheme_file(name: str, scheme: dict) -> Path:
    """The scheme in a file named by its content: the accuracy cache keys trials by that path, so
    another search's scheme must not reuse the name."""
    digest = hashlib.sha256(json.dumps(scheme, sort_keys=True).encode()).hexdigest()[:12]
    path = WORK / f"{name.replace('/', '-')}-{digest}.json"
    path.write_text(json.dumps(scheme, indent=1) + "\n")
    return path


def last_k_at(model, budget: int) -> tuple[str, int]:
    """The largest last-k whose compiled total SRAM fits `budget`, and that figure (last-1 when
    none fits; the table marks it over budget)."""
    from passes.sparse_update import backbone_convs
    from tt.search import largest_last_k
    from ttdialect.ir_io import find_function

    def total(k: int) -> int:
        return model.training_step(f"last-{k}").memory_report().total_sram_bytes

    num_convs = len(backbone_convs(find_function(model.module, "forward")))
    k = max(1, largest_last_k(num_convs, lambda k: total(k) <= budget))
    return f"last-{k}", total(k)


def _preset_budget(preset: str):
    """The preset's model name, the model with a fresh 10-class head, and the preset's compiled
    total SRAM (the budget)."""
    import tt

    model_name = preset.split("/")[0]
    model = tt.load(model_name, num_classes=10, new_head=True)
    return model_name, model, model.training_step(preset).memory_report().total_sram_bytes


def compare(preset: str, workers: int, lr: float, seeds: int, schedule: str) -> list[list[str]]:
    from tt.search import Setup as SearchSetup
    from tt.search import search_scheme

    model_name, model, budget = _preset_budget(preset)
    scheme, report = search_scheme(
        model_name,
        _search_data(model),
        budget,
        setup=SearchSetup(learning_rate=lr, schedule=schedule),
        cache=WORK / f"{model_name}.trials.json",
        workers=workers,
        progress=lambda what, done, total: print(f"  search {preset}: {what} {done}/{total}", flush=True),
    )
    searched = _scheme_file(f"searched-{preset}", scheme)
    (WORK / f"searched-{preset.replace('/', '-')}.report.txt").write_text(report.text())
    last_k, last_k_bytes = last_k_at(model, budget)
    candidates = [
        (preset, budget),
        (str(searched), report.chosen["total_sram_bytes"]),
        (last_k, last_k_bytes),
    ]
    setup = Setup()
    trials = [
        Trial(model_name, s, "int8+QAS", lr, seed, "test", schedule)
        for s, _ in candidates
        for seed in range(seeds)
    ]
    results = run_all(trials, setup, Cache(CACHE), jobs=max(1, workers))
    rows = []
    for (scheme_name, total), label in zip(candidates, ("preset", "searched", "last-k"), strict=True):
        accuracies = np.array([results[t]["accuracy"] for t in trials if t.scheme == scheme_name]) * 100
        shown = report.chosen["label"] if label == "searched" else scheme_name
        if total > budget:
            shown += " (over budget: no last-k fits)"
        rows.append(
            [
                preset,
                f"{budget / 1024:.1f}",
                f"{label}: {shown}",
                f"{total / 1024:.1f}",
                f"{accuracies.mean():.1f} ± {accuracies.std():.1f}",
                f"{report.measured_accuracy * 100:.1f}"
                if label == "searched" and report.measured_accuracy is not None
                else "",
                f"{report.seconds:.0f}" if label == "searched" else "",
            ]
        )
    return rows


def scaling(preset: str) -> list[list[str]]:
    """Wall time of one search from an empty trial cache, 1 worker then 2 Ray workers."""
    import tempfile

    from tt.search import search_scheme

    model_name, model, budget = _preset_budget(preset)
    data = _search_data(model)
    rows = []
    for workers in (1, 2):
        marks = {"start": time.perf_counter()}

        def progress(what: str, done: int, total: int, marks: dict = marks, workers: int = workers) -> None:
            if what == "trials" and done == total:
                marks.setdefault("trials", time.perf_counter())
            print(f"  {workers} worker(s): {what} {done}/{total}", flush=True)

        with tempfile.TemporaryDirectory(prefix="tt-search-scaling-") as work:
            _, report = search_scheme(
                model_name, data, budget, cache=Path(work) / "trials.json", workers=workers, progress=progress
            )
        end = time.perf_counter()
        trials_end = marks.get("trials", end)
        rows.append(
            [
                preset,
                "1 (in process)" if workers == 1 else f"{workers} (Ray, local)",
                str(len(report.contributions) + 1),  # and the baseline
                f"{trials_end - marks['start']:.0f}",
                f"{end - trials_end:.0f}",
                f"{end - marks['start']:.0f}",
            ]
        )
        print(rows[-1], flush=True)
    return rows


def _write_scaling(preset: str) -> None:
    rows = scaling(preset)
    headers = ["preset", "workers", "unit trials", "unit trials s", "memory, search, finalists s", "wall s"]
    table = markdown_table(headers, rows)
    print(table)
    write_section(
        "search-scaling",
        "\n".join(
            [
                "## Search wall time with Ray workers (bench/search.py --scaling)",
                "",
                f"Machine: {machine()}; nothing else running. One search (the default setup of",
                "tt/search.py: 500 training and 500 validation images per trial, the last 8",
                "block-expanding convs at 4 ratios, 6 bias groups, 4 finalists and 2 reference schemes)",
                "from an empty trial cache. The unit trials run in parallel, then the compiled memory",
                "of the schemes the evolutionary search considers is found in the main process, then",
                "the finalists run in parallel.",
                "",
                table,
            ]
        ),
    )


def _row_key(preset: str, args: argparse.Namespace) -> str:
    """A preset's rows by rate, seeds and schedule (not named when constant, as stored before
    there was one)."""
    schedule = [] if args.schedule == "constant" else [args.schedule]
    return json.dumps([preset, args.lr, args.seeds, *schedule])


def store_rows(preset: str, args: argparse.Namespace, rows: list[list[str]], seconds: float) -> None:
    """Keep a preset's rows (build/search/rows.json), so the table gathers presets benched by
    separate runs; a rerun of the preset at the same rate and seeds replaces them."""
    stored = json.loads(ROWS.read_text()) if ROWS.is_file() else {}
    run = f"{seconds / 60:.0f} min on {args.workers} worker(s), search of {_search_version()}"
    stored[_row_key(preset, args)] = {"rows": rows, "run": run}
    temporary = ROWS.with_name(ROWS.name + ".tmp")
    temporary.write_text(json.dumps(stored, indent=1))
    temporary.replace(ROWS)


def _search_version() -> str:
    """The commit that last changed tt/search.py (rows of different searches can share a table)."""
    import subprocess

    found = subprocess.run(
        ["git", "log", "-1", "--format=%h", "--", "tt/search.py"], cwd=REPO, capture_output=True, text=True
    )
    return found.stdout.strip() or "unknown"


def stored_rows(args: argparse.Namespace) -> tuple[list[list[str]], str]:
    """Every stored preset's rows at this rate and seed count, in the presets' order, and a note
    of the run that produced each."""
    from passes.schemes import PRESETS

    stored = json.loads(ROWS.read_text()) if ROWS.is_file() else {}
    rows, notes = [], []
    for preset in PRESETS:
        entry = stored.get(_row_key(preset, args))
        if entry is not None:
            rows += entry["rows"]
            notes.append(f"{preset} {entry['run']}")
    return rows, "; ".join(notes)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--presets", nargs="+", default=["mcunet-5fps/99kb"])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--lr", type=float, default=0.001)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--schedule",
        choices=("constant", "cosine"),
        default="constant",
        help="learning-rate schedule of every run, the search's included; its own table",
    )
    parser.add_argument("--scaling", action="store_true", help="time the search with 1 and 2 workers")
    parser.add_argument("--table", action="store_true", help="only rewrite the table from stored rows")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    if args.scaling:
        _write_scaling(args.presets[0])
        return 0
    for preset in [] if args.table else args.presets:
        start = time.perf_counter()
        rows = compare(preset, args.workers, args.lr, args.seeds, args.schedule)
        store_rows(preset, args, rows, time.perf_counter() - start)
    return _write_table(args)


def _mean(cell: str) -> float:
    return float(cell.split(" ± ")[0])


def summary(rows: list[list[str]]) -> str:
    """How many presets the searched scheme matches or beats (mean test accuracy), against the
    preset and against the largest last-k that fits."""
    by_preset: dict[str, dict[str, list[str]]] = {}
    for row in rows:
        by_preset.setdefault(row[0], {})[row[2].split(":")[0]] = row
    versus_preset = versus_last_k = last_k_fits = 0
    differences = []
    for found in by_preset.values():
        searched, preset = _mean(found["searched"][4]), _mean(found["preset"][4])
        differences.append(searched - preset)
        versus_preset += searched >= preset
        if "over budget" not in found["last-k"][2]:
            last_k_fits += 1
            versus_last_k += searched >= _mean(found["last-k"][4])
    return (
        f"Searched >= preset (mean over seeds) on {versus_preset} of {len(by_preset)} presets, "
        f"{np.mean(differences):+.2f} points on average over them; "
        f">= the largest last-k that fits on {versus_last_k} of {last_k_fits} (no last-k fits the "
        f"other {len(by_preset) - last_k_fits} budgets)."
    )


def _write_table(args: argparse.Namespace) -> int:
    rows, notes = stored_rows(args)
    if not rows:
        wanted = f"lr {args.lr}, {args.seeds} seeds, {args.schedule}"
        print(f"search: no preset benched at {wanted}", file=sys.stderr)
        return 1
    headers = [
        "preset (budget)",
        "budget KB",
        "scheme",
        "total SRAM KB",
        "test accuracy %",
        "search validation %",
        "search s",
    ]
    table = markdown_table(headers, rows)
    print(table)
    cosine = args.schedule == "cosine"
    write_section(
        "search-cosine" if cosine else "search",
        "\n".join(
            [
                "## Searched schemes vs the presets at equal memory (bench/search.py"
                + (" --schedule cosine)" if cosine else ")"),
                "",
                f"Machine: {machine()}. Runs (presets benched by earlier runs keep their rows): {notes}.",
                "Budget: the preset's planned total SRAM. Search (tt/search.py's defaults, the rate as",
                "below): contributions",
                "from 1-epoch runs on 500 images, validated on 500 others (apart from the accuracy",
                "bench's); compiled memory of every scheme considered; the 4 best predicted schemes and",
                "2 references (the largest last-k and bias group that fit) each trained 3 epochs on the",
                "same images with 2 sample orders, the best mean chosen (`search validation %`). last-k:",
                "the largest k that fits. Accuracy: bench/accuracy.py's protocol, int8+QAS at lr",
                f"{args.lr}"
                + (" down a cosine to 0 (every run, the search's too)" if cosine else "")
                + f", {args.seeds} seeds, 2000 test images. search s: the search's wall time in",
                "its run (trials cached by an earlier run are not rerun, so it can be short).",
                "",
                table,
                "",
                summary(rows),
            ]
        ),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
