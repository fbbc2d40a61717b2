"""Parameter data: inline `dense<...>` or entries of the weights file beside the IR.

A module that keeps arrays outside the IR names its weights file in the module attribute
`tt.weights` (a path relative to the IR file's folder); `#tt.external<"key">` entries are arrays
of that `.npz` file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, ModuleOp, StringAttr

from ttdialect import dialect as tt
from ttdialect.dialect import ParamOp
from ttdialect.errors import TTError
from ttdialect.ir_io import read_npz
from ttdialect.types import ExternalDataAttr

WEIGHTS_ATTR = "tt.weights"


class WeightsError(TTError):
    """A parameter's data cannot be found or does not fit its declaration."""


def dense_to_numpy(attr: DenseIntOrFPElementsAttr) -> np.ndarray:
    """The values of a dense attribute as a numpy array of its shape and element type."""
    shape = tuple(attr.get_shape())
    values = np.array(attr.get_values())
    if values.size == 1:  # a splat
        return np.full(shape, values.reshape(())[()])
    return values.reshape(shape)


@dataclass
class WeightStore:
    """Loads parameter arrays for one module, reading its weights file at most once."""

    module: ModuleOp
    base_dir: Path
    _external: dict[str, np.ndarray] | None = field(default=None, init=False)

    def weights_path(self) -> Path | None:
        attr = self.module.attributes.get(WEIGHTS_ATTR)
        if attr is None:
            return None
        assert isinstance(attr, StringAttr)
        return self.base_dir / attr.data

    def _external_arrays(self) -> dict[str, np.ndarray]:
        if self._external is None:
            path = self.weights_path()
            if path is None:
                raise WeightsError(
                    f"the module has #tt.external data but no '{WEIGHTS_ATTR}' attribute naming "
                    "its weights file"
                )
            try:
                self._external = read_npz(path, "weights file")
            except TTError as error:
                raise WeightsError(f"weights file {error}") from None
        return self._external

    def _payload(self, param: ParamOp, attr: object, what: str) -> np.ndarray:
        if isinstance(attr, DenseIntOrFPElementsAttr):
            return dense_to_numpy(attr)
        assert isinstance(attr, ExternalDataAttr)
        key = attr.key.data
        arrays = self._external_arrays()
        if key not in arrays:
            raise WeightsError(
                f"{what} of @{param.sym_name.data}: key '{key}' missing from {self.weights_path()}"
            )
        return arrays[key]

    def value(self, param: ParamOp) -> np.ndarray:
        """The parameter's integer data, checked against its declared type."""
        data = self._payload(param, param.value, "value")
        dtype = np.int8 if param.element_width == 8 else np.int32
        if tuple(data.shape) != param.shape:
            raise WeightsError(
                f"value of @{param.sym_name.data} has shape {data.shape}, declared {param.shape}"
            )
        if not np.issubdtype(data.dtype, np.integer):
            raise WeightsError(f"value of @{param.sym_name.data} has dtype {data.dtype}, expected integers")
        limits = np.iinfo(dtype)
        if data.size and (data.min() < limits.min or data.max() > limits.max):
            raise WeightsError(
                f"value of @{param.sym_name.data} holds {int(data.min())}..{int(data.max())}, "
                f"outside the {np.dtype(dtype).name} range"
            )
        return data.astype(dtype)

    def scales(self, param: ParamOp) -> np.ndarray:
        """The per-output-channel scales (float64), one per index of axis 0."""
        if param.scales is None:
            raise WeightsError(f"@{param.sym_name.data} has no scales")
        scales = self._payload(param, param.scales, "scales").astype(np.float64).reshape(-1)
        if scales.shape != (param.shape[0],):
            raise WeightsError(
                f"scales of @{param.sym_name.data} have {scales.size} entries, expected {param.shape[0]}"
            )
        if not np.all((scales > 0) & np.isfinite(scales)):
            raise WeightsError(f"scales of @{param.sym_name.data} must be positive and finite")
        return scales


_ir_directory = Path(".")


def set_ir_directory(path: Path) -> None:
    """Where the IR being compiled was read from (weights files are relative to it)."""
    global _ir_directory
    _ir_directory = path


def store_for(module: ModuleOp) -> WeightStore:
    """A WeightStore for a module read from the current IR directory (for passes)."""
    return WeightStore(module, _ir_directory)


def module_params(module: ModuleOp) -> dict[str, ParamOp]:
    """Every tt.param of the module by name, in order."""
    return {op.sym_name.data: op for op in module.ops if isinstance(op, ParamOp)}


def relocate_weights_file(module: ModuleOp, from_dir: Path, to_dir: Path) -> None:
    """Rewrite `tt.weights` so that it still names the same file from IR written to `to_dir`."""
    attr = module.attributes.get(WEIGHTS_ATTR)
    if not isinstance(attr, StringAttr) or from_dir.resolve() == to_dir.resolve():
        return
    target = (from_dir / attr.data).resolve()
    module.attributes[WEIGHTS_ATTR] = StringAttr(os.path.relpath(target, to_dir.resolve()))


def trained_masks(module: ModuleOp) -> dict[str, np.ndarray]:
    """For every parameter the module's updates write, a boolean mask of the elements written
    (the whole array, or the chosen channels of the update axis): what "the same trainable
    parameters" means for an fp32 reference, and where a divergence watch looks."""
    params = module_params(module)
    masks: dict[str, np.ndarray] = {}
    for op in module.walk():
        ref = tt.updated_param(op)
        if ref is None:
            continue
        symbol = ref.root_reference.data
        mask = masks.setdefault(symbol, np.zeros(params[symbol].shape, dtype=bool))
        channels = tt.updated_channels(op)
        if channels is None:
            mask[...] = True
            continue
        index: list[slice | list[int]] = [slice(None)] * mask.ndim
        index[tt.update_axis(op)] = list(channels)
        mask[tuple(index)] = True
    return masks
