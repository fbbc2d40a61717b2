"""The accuracy benchmark's learning-rate rule (bench/accuracy.py): sweeps with a known answer."""

import math

from bench.accuracy import COSINE_FLOOR, GRIDS, choose_rate, grid


def test_best_mean_wins_when_nothing_collapses() -> None:
    sweep = {0.001: [0.80, 0.82], 0.002: [0.84, 0.78], 0.005: [0.83, 0.83]}
    assert choose_rate(sweep) == 0.005  # means 0.81, 0.81, 0.83


def test_one_collapsed_order_rules_out_the_rate_and_its_neighbourhood() -> None:
    """0.005 has the best mean of its surviving orders but collapsed in one: it and every rate
    above half of it are out, so the lucky order does not pick the edge of divergence."""
    sweep = {0.001: [0.80, 0.80, 0.80], 0.002: [0.82, 0.81, 0.83], 0.005: [0.85, 0.10, 0.86]}
    assert choose_rate(sweep) == 0.002


def test_margin_is_half_the_smallest_collapsed_rate() -> None:
    sweep = {0.0005: [0.70], 0.001: [0.75], 0.002: [0.76], 0.003: [0.90], 0.005: [0.10]}
    assert choose_rate(sweep) == 0.002  # 0.003 > 0.005 / 2


def test_a_loss_that_stopped_being_finite_counts_as_collapsed() -> None:
    sweep = {0.001: [0.70, 0.71], 0.002: [0.80, math.nan]}
    assert choose_rate(sweep) == 0.001


def test_everything_collapsed_falls_back_to_the_smallest_rate() -> None:
    assert choose_rate({0.001: [0.1], 0.01: [math.nan]}) == 0.001


def test_cosine_sweeps_skip_the_rates_below_the_floor() -> None:
    assert min(grid("fp32", "cosine")) == COSINE_FLOOR
    assert grid("fp32", "constant") == GRIDS["fp32"]
    assert grid("int8 no-QAS", "cosine") == GRIDS["int8 no-QAS"]


def test_rates_too_small_to_learn_are_not_an_edge() -> None:
    """Without QAS the small rates leave the fresh head at chance: the edge of divergence is
    above the rates that learn, not below them."""
    sweep = {
        0.1: [0.10, 0.10],
        1.0: [0.12, 0.13],
        10.0: [0.38, 0.39],
        100.0: [0.75, 0.74],
        1000.0: [0.82, 0.83],
    }
    assert choose_rate(sweep) == 1000.0
    assert choose_rate({**sweep, 1500.0: [0.83, 0.09]}) == 100.0  # 1000 > 1500 / 2
