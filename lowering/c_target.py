"""`tt-opt -t 'c{name=NAME dir=DIR}'`: the planned module as C sources.

Without `dir` the files are printed one after the other, each after a `// ----- FILE: <name>`
line (what FileCheck tests read); with `dir` they are written into that folder (created if missing) once all
of them are generated (all or none, never over a file tt did not write) and their names are printed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO, ClassVar

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.target import Target

from lowering.c_model import emit_model
from ttdialect.outputs import Outputs
from ttdialect.weights import store_for

FILE_MARKER = "// ----- FILE: "


@dataclass(frozen=True)
class CTarget(Target):
    """Emits NAME.h, NAME.c, NAME_data.h and NAME_data.c for a planned module."""

    name: ClassVar[str] = "c"

    model: str = "model"
    dir: str = ""

    def emit(self, ctx: Context, module: ModuleOp, output: IO[str]) -> None:
        files = emit_model(module, store_for(module).base_dir, self.model).files
        if not self.dir:
            for file_name, text in files.items():
                output.write(f"{FILE_MARKER}{file_name}\n{text}")
            return
        write_files(Path(self.dir), files)
        for file_name in files:
            output.write(f"{Path(self.dir) / file_name}\n")


def write_files(directory: Path, files: dict[str, str]) -> None:
    """Write every file into `directory` (created if missing), all or none, replacing only files
    tt wrote there before (ttdialect.outputs)."""
    with Outputs() as outputs:
        for file_name, text in files.items():
            outputs.file(directory / file_name, text, make_folder=True)
