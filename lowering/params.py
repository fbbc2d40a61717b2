"""The parameters of a module as the generated C stores them.

A parameter no function updates is frozen: a `const` array (flash). An updated parameter is
trainable: a writable array (SRAM, initialised from flash at load time like any `.data`). Every
parameter gets a C identifier derived from its symbol name, unique within the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from passes.memory.slices import SplitSlice, split_slices
from ttdialect import dialect as tt
from ttdialect.weights import WeightStore, module_params


@dataclass(frozen=True)
class CParam:
    """One tt.param: its C array name, values, per-output-channel scales and storage.

    A partially updated weight (`split` set) keeps its full values `const` in flash and only the
    trained channels in SRAM (`sram_values`), as the runtime's tt_split_weight describes.
    """

    symbol: str
    c_name: str
    values: np.ndarray
    scales: np.ndarray | None
    trainable: bool
    split: SplitSlice | None = None

    @property
    def c_type(self) -> str:
        return "int8_t" if self.values.dtype == np.int8 else "int32_t"

    @property
    def sram_values(self) -> np.ndarray:
        """What lives in SRAM: the trained channels of a split weight, else every value."""
        if self.split is None:
            return self.values
        return np.take(self.values, self.split.channels, axis=self.split.axis)

    @property
    def nbytes(self) -> int:
        """Bytes of SRAM (and of an export) a trainable parameter takes."""
        return int(self.sram_values.nbytes)

    @property
    def scales_name(self) -> str:
        return f"{self.c_name}_scales"

    @property
    def slice_name(self) -> str:
        return f"{self.c_name}_slice"

    @property
    def split_name(self) -> str:
        return f"{self.c_name}_split"


def c_identifier(text: str) -> str:
    """`features.0.0.weight` -> `features_0_0_weight` (a valid C identifier)."""
    name = re.sub(r"\W", "_", text)
    return name if re.match(r"[A-Za-z_]", name) else f"_{name}"


def updated_symbols(module: ModuleOp) -> set[str]:
    """Names of the parameters some op of the module updates."""
    return {param.root_reference.data for op in module.walk() if (param := tt.updated_param(op)) is not None}


def collect_params(module: ModuleOp, base_dir: Path, prefix: str) -> dict[str, CParam]:
    """Every parameter by symbol name, with values loaded from the module's weights."""
    store = WeightStore(module, base_dir)
    updated = updated_symbols(module)
    splits = split_slices(module)
    params: dict[str, CParam] = {}
    taken: set[str] = set()
    for symbol, op in module_params(module).items():
        c_name = f"{prefix}_{c_identifier(symbol)}"
        while c_name in taken:
            c_name += "_"
        taken.add(c_name)
        scales = store.scales(op).astype(np.float32) if op.scales is not None else None
        trainable = symbol in updated
        params[symbol] = CParam(symbol, c_name, store.value(op), scales, trainable, splits.get(symbol))
    return params
