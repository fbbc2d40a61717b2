"""The scheme search (tt/search.py): the evolutionary search against brute force on a made-up
contribution table, the finalists chosen by measured accuracy when the summed contributions
mislead (and trained longer, over several sample orders), the weight candidates against the
published presets' layers, every returned scheme compiled within its budget, the trial cache,
and a few real trials on Ray in local mode giving what the single-process path gives."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pytest

import tt
from passes.schemes import PRESETS
from passes.sparse_update import backbone_convs
from tt import search
from tt.search import Candidate, Contributions, Data, Setup, evolve, parse_budget, units, weight_candidates
from ttdialect.bundled import new_task
from ttdialect.importers.tiny_training import default_zoo_dir
from ttdialect.ir_io import find_function


def test_evolve_finds_the_brute_force_optimum() -> None:
    convs, ratios, grid = (3, 4, 5, 6), (0.25, 0.5, 1.0), (1, 2, 4)
    contributions = Contributions(0.5, bias={1: 0.01, 2: 0.03, 4: 0.02})
    for conv, ratio in itertools.product(convs, ratios):
        contributions.weight[(conv, ratio)] = 0.01 * conv * ratio - 0.004 * (conv == 5)

    def memory(c: Candidate) -> float:  # an additive stand-in for the compiled figure
        return 2 * c.biases + sum(10 * ratio * (1 + conv % 2) for conv, ratio in c.weights)

    budget = 25.0
    space = [
        Candidate(b, tuple(sorted(choice)))
        for b in (0, *grid)
        for size in range(len(convs) + 1)
        for layers in itertools.combinations(convs, size)
        for choice in itertools.product(*[[(conv, r) for r in ratios] for conv in layers])
    ]
    best = max((c for c in space if memory(c) <= budget), key=contributions.score)
    ranked = evolve(contributions, lambda c: memory(c) <= budget, grid, contributions.weight, seed=3,
                    population=30, generations=40, keep=5)  # fmt: skip
    assert len(set(ranked)) == 5 and all(memory(c) <= budget for c in ranked)
    scores = [contributions.score(c) for c in ranked]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] == pytest.approx(contributions.score(best))


def test_the_prediction_never_falls_when_more_is_trained() -> None:
    """A noisy unit that measured below a smaller one (or below the baseline) is predicted at the
    smaller one's gain (or 0), and of equal predictions the search takes the scheme that trains
    more: it fills the budget instead of leaving it unused."""
    contributions = Contributions(0.5, bias={2: 0.04, 8: 0.01}, weight={(5, 0.25): 0.02, (5, 1.0): -0.01})
    contributions.weight[(6, 0.5)] = -0.03
    assert contributions.score(Candidate(8)) == contributions.score(Candidate(4)) == 0.04
    assert contributions.score(Candidate(0, ((5, 1.0),))) == 0.02
    assert contributions.score(Candidate(0, ((6, 0.5),))) == 0.0
    assert contributions.measured(Candidate(0, ((5, 1.0),))) == -0.01

    def memory(c: Candidate) -> float:
        return c.biases + sum(8 * ratio for _, ratio in c.weights)

    ranked = evolve(contributions, lambda c: memory(c) <= 20, (2, 8), contributions.weight, seed=1, keep=3)
    assert contributions.score(ranked[0]) == 0.06
    assert ranked[0] == Candidate(8, ((5, 1.0), (6, 0.5)))  # the most of the 20 the best prediction can use


@pytest.mark.skipif(not (default_zoo_dir() / "mbv2-w0.35.pkl").is_file(), reason="../shared/models is absent")
@pytest.mark.parametrize("largest", ["mbv2-w0.35/138kb", "mcunet-5fps/148kb", "proxyless-w0.3/148kb"])
def test_weight_candidates_hold_the_layers_the_largest_preset_updates(largest: str) -> None:
    model = tt.load(largest.split("/")[0], num_classes=10, new_head=True)
    forward = find_function(model.module, "forward")
    assert forward is not None
    candidates = weight_candidates(backbone_convs(forward), 8)
    assert len(candidates) == 8 and set(PRESETS[largest][1]) <= set(candidates)


def test_trial_keys_of_earlier_caches_hold() -> None:
    """Fields added later stay out of a trial's key at their defaults, so cached trials stay valid."""
    assert set(Setup(schedule="constant").trial_key()) == {
        "train", "validation", "epochs", "learning_rate", "bias_grid", "weight_convs", "ratios", "seed"
    }  # fmt: skip
    assert Setup().trial_key()["schedule"] == Setup().schedule == "cosine"  # tt-train's default


def test_units_and_budgets() -> None:
    found = units(10, Setup(bias_grid=(2, 4, 16), weight_convs=2, ratios=(0.5, 1.0)))
    assert [c.biases for c in found if not c.weights] == [2, 4]
    assert [c.weights[0] for c in found if c.weights] == [(8, 0.5), (8, 1.0), (9, 0.5), (9, 1.0)]
    assert (
        parse_budget("256KB") == 262144 and parse_budget("0.5 MB") == 524288 and parse_budget("1000") == 1000
    )
    for bad in ("", "-3KB", "KB", "12 parsecs"):
        with pytest.raises(tt.TTError):
            parse_budget(bad)


@pytest.fixture(scope="module")
def data() -> Data:
    task = new_task()
    return Data((task.train_x[:60], task.train_y[:60]), (task.test_x[:60], task.test_y[:60]))


SMALL = Setup(
    train=60, validation=60, learning_rate=0.05, bias_grid=(1, 2, 4), weight_convs=3, ratios=(0.5, 1.0)
)


@pytest.mark.parametrize("budget_kb", [5, 8])
def test_every_returned_scheme_compiles_within_its_budget(
    tmp_path: Path, data: Data, monkeypatch, budget_kb
) -> None:
    def fake_accuracy(source, candidate, data, setup, work) -> float:  # stands in for fine-tuning
        return 0.5 + 0.01 * candidate.biases + sum(0.03 * r * (c - 6) for c, r in candidate.weights)

    monkeypatch.setattr(search, "trial_accuracy", fake_accuracy)
    scheme, report = search.search_scheme(
        "bundled", data, budget_kb * 1024, setup=SMALL, cache=tmp_path / "c.json"
    )
    path = tmp_path / "scheme.json"
    path.write_text(json.dumps(scheme))
    memory = tt.load("bundled").training_step(str(path)).memory_report()
    assert memory.total_sram_bytes <= budget_kb * 1024
    assert report.chosen["total_sram_bytes"] == memory.total_sram_bytes
    assert report.predicted_accuracy >= report.baseline_accuracy
    cached = json.loads((tmp_path / "c.json").read_text())
    units_ran = {"bias last 0"} | {row["unit"] for row in report.contributions}
    finalist_runs = len(report.finalists) * SMALL.finalist_seeds
    assert len(cached) == len(units_ran) + finalist_runs  # every run on disk for a resume


def overlapping_gains(source, candidate: Candidate, data, setup, work) -> float:
    """A made-up model whose units overlap: a scheme is worth its best unit, less a cost per
    weight layer, so summing the units' gains overstates schemes of many layers."""
    best = max([0.01 * candidate.biases, *(0.03 * r * (c - 6) for c, r in candidate.weights)])
    return 0.5 + best - 0.02 * max(0, len(candidate.weights) - 1)


def _candidate(scheme: dict) -> Candidate:
    pairs = zip(scheme["manual_weight_idx"], scheme["weight_update_ratio"], strict=True)
    return Candidate(scheme["n_bias_update"], tuple(sorted(pairs)))


def test_finalists_are_chosen_by_measured_accuracy(tmp_path: Path, data: Data, monkeypatch) -> None:
    monkeypatch.setattr(search, "trial_accuracy", overlapping_gains)
    cache = tmp_path / "c.json"
    trusting, trusting_report = search.search_scheme(
        "bundled", data, 8 * 1024, setup=SMALL, cache=cache, finalists=0
    )
    scheme, report = search.search_scheme("bundled", data, 8 * 1024, setup=SMALL, cache=cache)
    assert trusting_report.measured_accuracy is None
    truth = {
        row["label"]: overlapping_gains("", _candidate(row["scheme"]), None, None, None)
        for row in report.finalists
    }
    assert [row["measured_accuracy"] for row in report.finalists] == list(truth.values())
    assert len(truth) >= 5  # 4 predicted, last-k and a bias group (some may coincide)
    assert report.chosen["label"] == max(truth, key=truth.__getitem__)
    assert report.measured_accuracy == max(truth.values())
    assert overlapping_gains("", _candidate(scheme), None, None, None) > overlapping_gains(
        "", _candidate(trusting), None, None, None
    )


def test_finalists_train_longer_and_average_their_sample_orders(
    tmp_path: Path, data: Data, monkeypatch
) -> None:
    runs: list[tuple[str, int, int]] = []

    def order_dependent(source, candidate: Candidate, data, setup: Setup, work) -> float:
        runs.append((candidate.label(), setup.epochs, setup.seed))
        return overlapping_gains(source, candidate, data, setup, work) + 0.01 * setup.seed

    monkeypatch.setattr(search, "trial_accuracy", order_dependent)
    setup = Setup(**{**SMALL.trial_key(), "seed": 4, "finalist_epochs": 5, "finalist_seeds": 3})
    _, report = search.search_scheme("bundled", data, 8 * 1024, setup=setup, cache=tmp_path / "c.json")
    for row in report.finalists:
        mine = sorted((epochs, seed) for label, epochs, seed in runs if label == row["label"] and epochs == 5)
        assert mine == [(5, 4), (5, 5), (5, 6)]
        expected = overlapping_gains("", _candidate(row["scheme"]), None, None, None) + 0.05
        assert row["measured_accuracy"] == pytest.approx(expected)
    assert "finalist (measured: mean of 3 runs of 5 epochs)" in report.text()
    units_ran = {label for label, epochs, _ in runs if epochs == 1}
    assert {(epochs, seed) for label, epochs, seed in runs if label in units_ran and epochs == 1} == {(1, 4)}


def test_a_budget_nothing_fits_and_bad_setups_are_refused_before_any_trial(
    tmp_path: Path, data: Data, monkeypatch
) -> None:
    def no_trials(*args) -> float:
        raise AssertionError("a trial ran")

    monkeypatch.setattr(search, "trial_accuracy", no_trials)
    with pytest.raises(tt.TTError, match="no scheme fits 0.1 KB .total.; the classifier alone needs"):
        search.search_scheme("bundled", data, 100, setup=SMALL, cache=tmp_path / "c.json")
    assert not (tmp_path / "c.json").exists()
    bad_setups = [(Setup(schedule="linear"), "schedule must be"), (Setup(finalist_seeds=0), "finalists need")]
    for setup, message in bad_setups:
        with pytest.raises(tt.TTError, match=message):
            search.search_scheme("bundled", data, 8 * 1024, setup=setup, cache=tmp_path / "c.json")
    assert not (tmp_path / "c.json").exists()


def test_a_cache_that_is_not_ours_is_refused(tmp_path: Path, data: Data) -> None:
    (tmp_path / "c.json").write_text("my notes")
    with pytest.raises(tt.TTError, match="not a trials cache"):
        search.Trials("bundled", data, SMALL, tmp_path / "c.json")
    assert (tmp_path / "c.json").read_text() == "my notes"


def test_two_searches_sharing_a_cache_keep_each_others_trials(
    tmp_path: Path, data: Data, monkeypatch
) -> None:
    """Two searches open one cache; what the first stores is not written over by the second's."""
    monkeypatch.setattr(
        search, "trial_accuracy", lambda source, candidate, *rest: 0.5 + candidate.biases / 100
    )
    first, second = (search.Trials("bundled", data, SMALL, tmp_path / "c.json") for _ in range(2))
    first.run([Candidate(2)])
    second.run([Candidate(4)])
    reopened = search.Trials("bundled", data, SMALL, tmp_path / "c.json")
    assert sorted(reopened.results.values()) == [0.52, 0.54]
    assert [p.name for p in tmp_path.iterdir()] == ["c.json"]  # no temporary left behind


def test_trials_on_ray_match_the_single_process_path(tmp_path: Path, data: Data) -> None:
    pytest.importorskip("ray")
    candidates = [Candidate(0), Candidate(2), Candidate(0, ((9, 0.5),))]
    here = search.Trials("bundled", data, SMALL, tmp_path / "here.json").run(candidates)
    ray = search.Trials("bundled", data, SMALL, tmp_path / "ray.json", workers=2).run(candidates)
    assert here == ray and len(here) == 3 and all(0 <= a <= 1 and not math.isnan(a) for a in here.values())
