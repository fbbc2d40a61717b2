"""Sparse update schemes: which parameters a training step updates.

Semantics (tiny-training's): backbone convs are indexed in forward order from 0, the classifier
excluded. The classifier's weight and bias are always updated. `n_bias_update` updates the
biases of the last n backbone convs; `manual_weight_idx[i]` has its weight updated on a fraction
`weight_update_ratio[i]` of its input channels (0: frozen; the `int(ratio * C_in)` channels of
largest L2 weight norm; for a depthwise conv, channels), and also updates its bias.

Schemes by name: `full`, `bias-only` (every bias, plus the classifier), `last-k` / `last-K`
(weights and biases of the last K backbone convs), the published presets (`mcunet-5fps/99kb`,
...), or the path of a JSON/YAML file with the three keys above.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ttdialect.errors import TTError

PRESETS: dict[str, tuple[int, tuple[int, ...], tuple[float, ...]]] = {
    "mbv2-w0.35/49kb": (16, (36, 39, 40, 41, 42, 45, 48, 49), (1, 1, 0, 0.25, 0.125, 0.125, 0.125, 0.125)),
    "mbv2-w0.35/73kb": (20, (32, 33, 36, 39, 41, 42, 45, 48), (0.125, 0.5, 0.5, 1, 0.25, 0.125, 0.125, 1)),
    "mbv2-w0.35/99kb": (25, (27, 30, 33, 36, 39, 42, 45, 48), (1, 1, 1, 1, 1, 0.125, 0.5, 1)),
    "mbv2-w0.35/123kb": (31, (27, 30, 33, 36, 39, 42, 45, 48), (1, 1, 1, 1, 1, 0.5, 1, 1)),
    "mbv2-w0.35/138kb": (34, (27, 30, 33, 36, 39, 42, 45, 48), (1, 1, 1, 1, 1, 1, 1, 1)),
    "mcunet-5fps/49kb": (20, (23, 24, 27, 30, 33, 39), (0, 0.25, 0.5, 0.5, 0, 0)),
    "mcunet-5fps/74kb": (21, (21, 23, 24, 26, 27, 30), (1, 0, 1, 0, 0.5, 1)),
    "mcunet-5fps/99kb": (22, (21, 24, 27, 30, 36, 39), (1, 1, 1, 1, 0.125, 0.25)),
    "mcunet-5fps/124kb": (24, (21, 24, 27, 30, 33, 39), (0.25, 1, 1, 1, 0.5, 0.5)),
    "mcunet-5fps/148kb": (23, (21, 24, 27, 30, 36, 39), (1, 1, 1, 1, 1, 0.5)),
    "proxyless-w0.3/49kb": (21, (39, 42, 44, 45, 50, 51, 54, 57), (0.25, 1, 0, 1, 0, 0.125, 0.25, 0.25)),
    "proxyless-w0.3/74kb": (28, (33, 36, 39, 42, 45, 51, 54, 57), (0.5, 0.25, 1, 1, 1, 0.5, 0.25, 0.5)),
    "proxyless-w0.3/98kb": (25, (36, 39, 42, 45, 48, 51, 54, 57), (1, 0.5, 1, 1, 0.25, 0.5, 1, 1)),
    "proxyless-w0.3/120kb": (32, (36, 39, 42, 45, 48, 51, 54, 57), (1, 1, 1, 1, 0.5, 1, 1, 1)),
    "proxyless-w0.3/148kb": (45, (36, 39, 42, 45, 48, 51, 54, 57), (1, 1, 1, 1, 1, 1, 1, 1)),
}


class SchemeError(TTError):
    """A scheme that cannot be read or does not fit the model."""


@dataclass(frozen=True)
class Scheme:
    """Biases of the last `n_bias_update` convs (None: all) and weights at given ratios."""

    name: str
    n_bias_update: int | None
    weight_ratios: dict[int, float] = field(default_factory=dict)
    last_k_weights: int = 0
    all_weights: bool = False

    def resolve(self, num_convs: int) -> tuple[set[int], dict[int, float]]:
        """(conv indices whose bias is updated, conv index -> weight ratio) for a backbone."""
        for index in self.weight_ratios:
            if not 0 <= index < num_convs:
                raise SchemeError(
                    f"scheme {self.name}: conv index {index} out of range (model has {num_convs})"
                )
        if self.n_bias_update is not None and not 0 <= self.n_bias_update <= num_convs:
            raise SchemeError(
                f"scheme {self.name}: n_bias_update {self.n_bias_update} exceeds {num_convs} convs"
            )
        ratios = {i: r for i, r in self.weight_ratios.items() if r > 0}
        if self.all_weights:
            ratios = dict.fromkeys(range(num_convs), 1.0)
        for index in range(max(0, num_convs - self.last_k_weights), num_convs):
            ratios[index] = 1.0
        n_bias = num_convs if self.n_bias_update is None else self.n_bias_update
        biases = set(range(num_convs - n_bias, num_convs)) | set(ratios)
        return biases, ratios


def _from_table(name: str, n_bias: int, indices: tuple[int, ...], ratios: tuple[float, ...]) -> Scheme:
    if len(indices) != len(ratios):
        raise SchemeError(f"scheme {name}: manual_weight_idx and weight_update_ratio differ in length")
    for ratio in ratios:
        if not 0 <= ratio <= 1:
            raise SchemeError(f"scheme {name}: weight_update_ratio values must be in [0, 1], got {ratio}")
    return Scheme(name, n_bias, dict(zip(indices, (float(r) for r in ratios), strict=True)))


def load_scheme_file(path: Path) -> Scheme:
    try:
        text = path.read_text()
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except OSError as error:
        raise SchemeError(f"scheme file {path}: {error.strerror}") from None
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise SchemeError(f"scheme file {path}: not valid JSON/YAML ({error})") from None
    keys = {"n_bias_update", "manual_weight_idx", "weight_update_ratio"}
    if not isinstance(data, dict) or not keys <= set(data):
        raise SchemeError(f"scheme file {path}: needs the keys {', '.join(sorted(keys))}")
    try:
        n_bias = int(data["n_bias_update"])
        indices = tuple(int(i) for i in data["manual_weight_idx"])
        ratios = tuple(float(r) for r in data["weight_update_ratio"])
    except (TypeError, ValueError) as error:
        raise SchemeError(f"scheme file {path}: {error}") from None
    return _from_table(str(path), n_bias, indices, ratios)


def parse_scheme(spec: str) -> Scheme:
    """A Scheme from a name (full, bias-only, last-k/last-K, a preset) or a scheme file path."""
    if spec == "full":
        return Scheme(spec, None, all_weights=True)
    if spec == "bias-only":
        return Scheme(spec, None)
    if match := re.fullmatch(r"last-(\d+)", spec):
        k = int(match.group(1))
        return Scheme(spec, k, last_k_weights=k)
    if spec in PRESETS:
        return _from_table(spec, *PRESETS[spec])
    path = Path(spec)
    if path.suffix in (".json", ".yaml", ".yml"):
        return load_scheme_file(path)
    names = ", ".join(["full", "bias-only", "last-K", *PRESETS])
    raise SchemeError(f"unknown scheme '{spec}' (choose from {names}, or a .json/.yaml scheme file)")
