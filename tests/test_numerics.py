"""ttdialect.numerics against an exact integer reference written here with Python ints / Fractions.

The documented rule (docs/numerics.md): a positive real scale M is stored as m * 2**(shift - 31)
with m in [2**30, 2**31); requantize(acc) = (acc * m + 2**(t - 1)) >> t, t = 31 - shift, one
rounding, half up (towards +inf). Scales below 2**-32 give m = 0.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from ttdialect import numerics as nx

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

# --------------------------------------------------------------------------- reference


def ref_multiplier(scale: float) -> tuple[int, int]:
    """(m, shift) with m = round(scale * 2**(31 - shift)) in [2**30, 2**31), from exact fractions."""
    f = Fraction(scale)
    assert f > 0
    shift = f.numerator.bit_length() - f.denominator.bit_length()
    while f >= Fraction(2) ** shift:
        shift += 1
    while f < Fraction(2) ** (shift - 1):
        shift -= 1
    exact = f * Fraction(2) ** (31 - shift)  # in [2**30, 2**31)
    assert 2**30 <= exact < 2**31
    m = math.floor(exact + Fraction(1, 2))
    if m == 2**31:
        m, shift = 2**30, shift + 1
    return m, shift


def ref_requantize(acc: int, m: int, shift: int) -> int:
    t = 31 - shift
    result = (acc * m + (1 << (t - 1))) >> t
    # the same thing as exact rational rounding half up of acc * m / 2**t
    assert result == math.floor(Fraction(acc * m, 2**t) + Fraction(1, 2))
    return result


def exact_round(acc: int, scale: float) -> int:
    """round half up of acc * scale, with the real (unquantized) scale."""
    return math.floor(Fraction(acc) * Fraction(scale) + Fraction(1, 2))


def random_scales(rng: np.random.Generator, count: int, lo_exp: float, hi_exp: float) -> list[float]:
    return [float(2.0 ** rng.uniform(lo_exp, hi_exp)) for _ in range(count)]


def random_accs(rng: np.random.Generator, count: int, bits: int = 31) -> np.ndarray:
    """Accumulators of mixed magnitude (small and large, both signs), plus the int32 extremes."""
    mags = rng.integers(0, bits + 1, size=count)
    accs = [int(rng.integers(-(2**m), 2**m)) if m else 0 for m in mags]
    accs[:4] = [INT32_MIN, INT32_MAX, -1, 1]
    return np.array(accs, dtype=np.int64)


# --------------------------------------------------------------------------- quantize_multiplier


SPECIAL_SCALES = [
    1.0,
    0.5,
    0.25,
    2.0,
    3.0,
    0.75,
    1e-3,
    1e-6,
    1e-9,
    2.0**-31,
    2.0**-32,
    1000.0,
    12345.678,
    2.0**29,
    0.9999999999,
    0.0235 * 0.0042 / 0.0312,
    1 / 3,
]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quantize_multiplier_matches_reference(seed) -> None:
    rng = np.random.default_rng(seed)
    scales = SPECIAL_SCALES + random_scales(rng, 300, -31.5, 29.5)
    for s in scales:
        m, shift = nx.quantize_multiplier(s)
        assert 2**30 <= m < 2**31, (s, m)
        assert (int(m), int(shift)) == ref_multiplier(s), s
        # m * 2**(shift - 31) is the nearest representable value: within half a unit of m
        assert abs(Fraction(m) - Fraction(s) * Fraction(2) ** (31 - shift)) <= Fraction(1, 2)


def test_quantize_multiplier_rounding_up_to_next_power_of_two() -> None:
    s = float(np.nextafter(1.0, 0.0))  # mantissa rounds up to 2**31
    assert nx.quantize_multiplier(s) == (2**30, 1) == ref_multiplier(s)


def test_quantize_multiplier_tiny_and_invalid_scales() -> None:
    for s in (2.0**-33, 1e-12, 5e-324):
        assert nx.quantize_multiplier(s) == (0, 0)
    for s in (0.0, -0.5, float("nan")):
        with pytest.raises(ValueError):
            nx.quantize_multiplier(s)
    with pytest.raises(ValueError):
        nx.quantize_multiplier(2.0**31)


# --------------------------------------------------------------------------- requantize


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_requantize_matches_integer_reference(seed) -> None:
    """Random accumulators against random (m, shift) pairs, elementwise and broadcast per channel."""
    rng = np.random.default_rng(seed)
    accs = random_accs(rng, 400)
    ms = rng.integers(2**30, 2**31, size=400)
    shifts = rng.integers(-31, 31, size=400)
    got = nx.requantize(accs, ms, shifts)
    assert got.dtype == np.int64
    expected = [ref_requantize(int(a), int(m), int(s)) for a, m, s in zip(accs, ms, shifts, strict=True)]
    assert got.tolist() == expected

    # per-channel multipliers broadcast along the last axis
    acc2 = random_accs(rng, 60).reshape(10, 6)
    m2, s2 = rng.integers(2**30, 2**31, size=6), rng.integers(-20, 5, size=6)
    got2 = nx.requantize(acc2, m2, s2)
    exp2 = [[ref_requantize(int(a), int(m2[j]), int(s2[j])) for j, a in enumerate(row)] for row in acc2]
    assert got2.tolist() == exp2


def test_requantize_ties_round_half_up() -> None:
    m, shift = 2**30, 0  # exactly 0.5
    accs = np.array([1, 3, 5, -1, -3, -5, 0, 2, -2, INT32_MIN, INT32_MAX])
    # x.5 goes up (towards +inf): 0.5 -> 1, 1.5 -> 2, -0.5 -> 0, -1.5 -> -1
    assert nx.requantize(accs, m, shift).tolist() == [1, 2, 3, 0, -1, -2, 0, 1, -1, -(2**30), 2**30]
    # quarter: acc * 2**-2, ties at odd multiples of 2
    assert nx.requantize(np.array([2, -2, 6, -6, 1, -1, 3, -3]), 2**30, -1).tolist() == [
        1,
        0,
        2,
        -1,
        0,
        0,
        1,
        -1,
    ]
    for a in (-7, -6, -5, 5, 6, 7, -(2**31) + 1):
        assert int(nx.requantize(np.array([a]), 2**30, -1)[0]) == ref_requantize(a, 2**30, -1)


@pytest.mark.parametrize(
    ("lo_exp", "hi_exp", "bits"),
    [
        (-12.0, -4.0, 31),
        (-31.9, -20.0, 31),
        (-1.0, 1.0, 24),
        (0.0, 8.0, 20),
        (8.0, 20.0, 10),
        (-4.0, 0.0, 16),
    ],
)
def test_requantize_scaled_matches_reference_and_exact_rounding(lo_exp, hi_exp, bits) -> None:
    """Scales from tiny to > 1: bit-exact with the reference rule, and within 1 of exact rounding."""
    rng = np.random.default_rng(int(1000 + lo_exp * 10 + hi_exp))
    scales = random_scales(rng, 40, lo_exp, hi_exp)
    off = total = 0
    for s in scales:
        accs = random_accs(rng, 50, bits)
        got = nx.requantize_scaled(accs, s).tolist()
        m, shift = ref_multiplier(s)
        assert got == [ref_requantize(int(a), m, shift) for a in accs], s
        for a, g in zip(accs.tolist(), got, strict=True):
            product = Fraction(a) * Fraction(s)
            # m carries half a unit of error in 31 bits: |error| <= |acc * s| * 2**-30 before rounding
            bound = 1 + math.floor(abs(product) / 2**30)
            assert abs(g - exact_round(a, s)) <= bound, (a, s)
            if abs(product) < 2**12:  # the int8-sized results an op produces: nearly always exact
                off += g != exact_round(a, s)
                total += 1
    assert total > 100 and off / total < 0.02


def test_requantize_scaled_per_channel() -> None:
    rng = np.random.default_rng(42)
    scales = np.array(random_scales(rng, 8, -14, 2))
    accs = random_accs(rng, 8 * 30).reshape(30, 8)
    got = nx.requantize_scaled(accs, scales)
    for j, s in enumerate(scales):
        m, shift = ref_multiplier(float(s))
        assert got[:, j].tolist() == [ref_requantize(int(a), m, shift) for a in accs[:, j]]


def test_requantize_scaled_tiny_scale_gives_zero() -> None:
    accs = np.array([INT32_MIN, INT32_MAX, -12345, 0, 999])
    for s in (2.0**-33, 1e-11, 2.0**-32):
        assert nx.requantize_scaled(accs, s).tolist() == [exact_round(int(a), s) for a in accs] == [0] * 5


def test_requantize_exact_for_powers_of_two() -> None:
    accs = np.arange(-300, 301)
    for k in range(-12, 10):
        s = 2.0**k
        assert nx.requantize_scaled(accs, s).tolist() == [exact_round(int(a), s) for a in accs]


# --------------------------------------------------------------------------- quantize / dequantize


def test_quantize_half_to_even_and_saturation() -> None:
    real = np.array([0.25, 0.75, 1.25, -0.25, -0.75, 0.3, -0.3, 100.0, -100.0, 31.6, -32.1])
    got = nx.quantize(real, 0.5, 1)
    # real / 0.5 = [0.5, 1.5, 2.5, -0.5, -1.5, 0.6, -0.6, 200, -200, 63.2, -64.2]
    assert got.dtype == np.int8
    assert got.tolist() == [1, 3, 3, 1, -1, 2, 0, 127, -128, 64, -63]


def test_dequantize() -> None:
    q = np.array([-128, -1, 0, 5, 127], dtype=np.int8)
    got = nx.dequantize(q, 0.1, -3)
    assert got.dtype == np.float64
    assert got.tolist() == [(v + 3) * 0.1 for v in (-128, -1, 0, 5, 127)]


# --------------------------------------------------------------------------- update rounding and RNG


def ref_hash32(x: int) -> int:
    mask = 0xFFFFFFFF
    x &= mask
    x ^= x >> 16
    x = (x * 0x7FEB352D) & mask
    x ^= x >> 15
    x = (x * 0x846CA68B) & mask
    x ^= x >> 16
    return x


def test_hash32_matches_reference() -> None:
    rng = np.random.default_rng(3)
    xs = [0, 1, 2, 0xFFFFFFFF, 0x80000000] + [int(v) for v in rng.integers(0, 2**32, size=200)]
    got = nx.hash32(np.array(xs, dtype=np.uint32))
    assert got.dtype == np.uint32
    assert got.tolist() == [ref_hash32(x) for x in xs]


def test_uniform_from_counter() -> None:
    for counter in (0, 7, 2**31, 2**32 - 3):
        u = nx.uniform_from_counter(counter, 6)
        expected = [ref_hash32((counter + i) % 2**32) / 2**32 for i in range(6)]
        assert u.tolist() == expected
    u = nx.uniform_from_counter(123, 20000)
    assert ((u >= 0) & (u < 1)).all()
    assert abs(u.mean() - 0.5) < 0.01
    assert abs(u.var() - 1 / 12) < 0.005


def test_round_update_modes() -> None:
    delta = np.array([2.5, -2.5, 0.5, -0.5, 1.2, -1.2, 0.999, -0.999, 3.0, -3.0])
    assert nx.round_update(delta, "nearest").tolist() == [3, -2, 1, 0, 1, -1, 1, -1, 3, -3]
    assert nx.round_update(delta, "truncate").tolist() == [2, -2, 0, 0, 1, -1, 0, 0, 3, -3]
    u = np.full(delta.shape, 0.3)
    assert nx.round_update(delta, "stochastic", u).tolist() == [2, -3, 0, -1, 1, -1, 1, -1, 3, -3]
    with pytest.raises(ValueError):
        nx.round_update(delta, "bogus")


def test_stochastic_round_update_is_unbiased() -> None:
    rng = np.random.default_rng(8)
    delta = np.repeat(rng.uniform(-3, 3, size=16), 4000)
    u = nx.uniform_from_counter(777, delta.size)
    steps = nx.round_update(delta, "stochastic", u).reshape(16, 4000)
    assert np.abs(steps.mean(axis=1) - delta.reshape(16, 4000)[:, 0]).max() < 5 * 0.5 / math.sqrt(4000)
