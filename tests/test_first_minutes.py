"""A new user's first minutes (issue 15 item 3): fast --help, the board budget checked before
anything is written, the environment checked before anything is downloaded."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from ttdialect.importers.tiny_training import default_zoo_dir

REPO = Path(__file__).resolve().parents[1]
TOOLS = ("tt-opt", "tt-import", "tt-compile", "tt-train", "tt-run", "tt-plan-memory", "tt-search-scheme")
HEAVY = ("torch", "ray", "tensorflow")  # seconds each to import: --help needs none of them
HELP_WITH_IMPORTS = """
import importlib, sys
sys.argv = [{tool!r}, "--help"]
module, function = {entry!r}.split(":")
try:
    getattr(importlib.import_module(module), function)()
except SystemExit:
    pass
print("loaded:", *[name for name in {heavy!r} if name in sys.modules], file=sys.stderr)
"""


@pytest.mark.parametrize("tool", TOOLS)
def test_help_is_fast(tool: str) -> None:
    """--help answers without importing any heavy package (why it takes under a second; a
    wall-clock bound would fail on a loaded machine, this cannot)."""
    (entry,) = [e.value for e in entry_points(group="console_scripts") if e.name == tool]
    code = HELP_WITH_IMPORTS.format(tool=tool, entry=entry, heavy=HEAVY)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and "usage" in done.stdout
    assert done.stderr.splitlines()[-1] == "loaded:"


@pytest.mark.skipif(
    not (default_zoo_dir() / "mcunet-5fps.pkl").is_file(), reason="../shared/models is missing"
)
def test_over_budget_model_is_refused_unless_asked(tmp_path: Path) -> None:
    command = ["tt-compile", "mcunet-5fps", "--scheme", "full", "--target", "stm32cubeide", "--out"]
    refused = subprocess.run([*command, str(tmp_path / "a")], capture_output=True, text=True)
    assert refused.returncode == 1 and "does not fit the board" in refused.stderr
    assert not (tmp_path / "a").exists()
    written = subprocess.run(
        [*command, str(tmp_path / "b"), "--allow-over-budget"], capture_output=True, text=True
    )
    assert written.returncode == 0 and "warning: does not fit" in written.stderr
    assert "does not fit the STM32F746" in (tmp_path / "b" / "README.md").read_text()
    assert "budget_warning" in json.loads((tmp_path / "b" / "report.json").read_text())


def test_project_without_samples_builds(tmp_path: Path) -> None:
    done = subprocess.run(
        ["tt-compile", "bundled", "--target", "host", "--no-samples", "--out", str(tmp_path / "p")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "SAMPLES_TRAIN_COUNT 0" in (tmp_path / "p" / "samples.h").read_text()
    build = subprocess.run(
        ["make", "-s", "train", "train_data"], cwd=tmp_path / "p", capture_output=True, text=True
    )
    assert build.returncode == 0, build.stderr


def test_environment_check_runs_before_any_download() -> None:
    makefile = (REPO / "Makefile").read_text()
    assert "install: check-python" in makefile and "demo: check-system install" in makefile
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "check_system.py")], capture_output=True, text=True
    )
    assert done.returncode == (0 if sys.version_info[:2] == (3, 11) else 1)
