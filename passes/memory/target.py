"""`tt-opt -t memory-report{format=text|json png=PATH}`: the memory report as tt-opt output."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO, ClassVar

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.target import Target

from passes.memory.report import draw_lifetimes, memory_report


@dataclass(frozen=True)
class MemoryReportTarget(Target):
    """Prints the memory report of @train_step (or @forward) as text or JSON; optionally a PNG."""

    name: ClassVar[str] = "memory-report"

    format: str = "text"
    png: str = ""

    def emit(self, ctx: Context, module: ModuleOp, output: IO[str]) -> None:
        if self.format not in ("text", "json"):
            raise ValueError(f"memory-report: format must be text or json, got '{self.format}'")
        report = memory_report(module)
        output.write(report.to_json() + "\n" if self.format == "json" else report.to_text())
        if self.png:
            draw_lifetimes(module, Path(self.png), report.function)
