"""tt's activation tables (exact real function, rounded) against TFLite's own int8 rules.

tt's tables (numerics.activation_table) are checked against PyTorch in
test_interpreter_layers.py; here they are compared with ttdialect.tflite_rules, the int8
HARD_SWISH (16-bit fixed point) and LOGISTIC (float32 table) of TensorFlow Lite, over random
quantizations as calibration gives them, to state how far apart they are (docs/numerics.md):
LOGISTIC at TFLite's required output quantization (1/256, -128) agrees on every entry;
HARD_SWISH differs by one LSB on a few entries of most tables.
"""

from __future__ import annotations

import numpy as np
import pytest

from ttdialect import numerics as nx
from ttdialect import tflite_rules as tflite
from ttdialect.importers.torch_import import activation_qparams


def quantizations(seed: int, count: int, hard_swish: bool) -> list[tuple[float, int, float, int]]:
    """(x scale, x zp, y scale, y zp) as calibration gives them: input ranges [-a, b] with a, b in
    [1, 12]; hard-swish outputs [-0.375, its value at b], sigmoid outputs TFLite's 1/256, -128."""
    rng = np.random.default_rng(seed)
    result = []
    for _ in range(count):
        low, high = -rng.uniform(1, 12), rng.uniform(1, 12)
        x_scale, x_zp = activation_qparams(low, high)
        if hard_swish:
            y_scale, y_zp = activation_qparams(
                -0.375, float(nx.activation_real("hard_swish", np.array(high)))
            )
        else:
            y_scale, y_zp = 1.0 / 256.0, -128
        result.append((float(np.float32(x_scale)), x_zp, float(np.float32(y_scale)), y_zp))
    return result


def differences(name: str, cases) -> np.ndarray:
    rows = []
    for x_scale, x_zp, y_scale, y_zp in cases:
        ours = nx.activation_table(name, x_scale, x_zp, y_scale, y_zp).astype(np.int64)
        if name == "hard_swish":
            theirs = tflite.hard_swish_table(x_scale, x_zp, y_scale, y_zp)
        else:
            theirs = tflite.logistic_table(x_scale, x_zp, y_scale, y_zp)
        rows.append(ours - theirs.astype(np.int64))
    return np.array(rows)


def test_logistic_tables_agree_with_tflite() -> None:
    diff = differences("sigmoid", quantizations(1, 200, hard_swish=False))
    print(f"\nLOGISTIC: {np.mean(diff != 0):.4f} of {diff.size} entries differ")
    assert not diff.any()


def test_hard_swish_tables_within_one_lsb_of_tflite() -> None:
    diff = differences("hard_swish", quantizations(2, 200, hard_swish=True))
    share = float(np.mean(diff != 0))
    tables = float(np.mean(diff.any(axis=1)))
    print(
        f"\nHARD_SWISH: {share:.4f} of {diff.size} entries differ (max {np.abs(diff).max()} LSB, mean "
        f"{diff.mean():+.4f}: tt above), in {tables:.2f} of the tables"
    )
    assert np.abs(diff).max() <= 1
    assert 0 < share < 0.01


@pytest.mark.parametrize("x_zp", [-128, 0, 40])
def test_tflite_hard_swish_model_is_hard_swish(x_zp: int) -> None:
    """The fixed-point model is within one LSB of the real function everywhere (its shape: 0 up
    to -3, x from 3 on)."""
    x_scale, y_scale, y_zp = 0.05, 0.04, -100
    real = nx.activation_real("hard_swish", nx.table_inputs(x_scale, x_zp)) / y_scale + y_zp
    table = tflite.hard_swish_table(x_scale, x_zp, y_scale, y_zp).astype(np.float64)
    inside = (real > -128) & (real < 127)
    assert np.abs(table - real)[inside].max() <= 1.0


def test_tflite_quantize_multiplier() -> None:
    assert tflite.tflite_quantize_multiplier(0.5) == (2**30, 0)
    assert tflite.tflite_quantize_multiplier(1.0) == (2**30, 1)
    assert tflite.tflite_quantize_multiplier(0.0) == (0, 0)
    m, shift = tflite.tflite_quantize_multiplier(0.1)
    assert abs(m * 2.0 ** (shift - 31) - 0.1) < 1e-9
    assert tflite.downscale_to_int16(2**30) == 2**14
    assert tflite.rounding_divide_by_pot(5, 1) == 3 and tflite.rounding_divide_by_pot(-5, 1) == -3
