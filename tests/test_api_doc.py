"""docs/api.md is executed: every ```python block, in order, in one namespace, in a fresh folder.
A block that raises fails the test (the page's asserts check what it claims)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def test_every_block_of_the_api_page_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S)
    assert len(blocks) >= 5
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    for index, block in enumerate(blocks):
        exec(compile(block, f"{PAGE.name} block {index + 1}", "exec"), namespace)  # noqa: S102


def test_api_errors_are_tt_errors(tmp_path: Path) -> None:
    import tt

    with pytest.raises(tt.TTError, match="no-such-scheme"):
        tt.load("bundled").training_step("no-such-scheme")
    with pytest.raises(tt.TTError, match="missing.mlir"):
        tt.load(tmp_path / "missing.mlir")
    with pytest.raises(tt.TTError, match="learning rate"):
        tt.load("bundled").training_step(lr=-1.0)
    with pytest.raises(tt.TTError, match="unknown target"):
        tt.load("bundled").training_step().write_project(tmp_path / "p", target="esp32")
    with pytest.raises(tt.TTError, match="is not bundled, a zoo name"):
        tt.load("nonsense")
