"""Fixtures of the C runtime tests: the sanitized kernel driver, compiled once per session."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # irbuild, shared test helpers
sys.path.insert(0, str(Path(__file__).resolve().parent))  # cdriver

from cdriver import KernelDriver, build_driver  # noqa: E402


@pytest.fixture(scope="session")
def driver(tmp_path_factory: pytest.TempPathFactory) -> KernelDriver:
    """The runtime and kernel_driver.c built with -fsanitize=address,undefined."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    return KernelDriver(build_driver(tmp_path_factory.mktemp("runtime")))
