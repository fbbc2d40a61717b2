"""Dependencies point one way: ttdialect <- passes <- lowering <- tt (API and tools).

Every import in every module of the four packages (at the top or inside a function) is read with
`ast`; an import of a higher layer fails the test, naming the file and line.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LAYERS = {"ttdialect": 0, "passes": 1, "lowering": 2, "tt": 3}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def test_python_imports_never_run_back_up() -> None:
    violations = []
    for package, layer in LAYERS.items():
        for path in sorted((REPO / package).rglob("*.py")):
            for line, module in _imports(path):
                target = LAYERS.get(module.split(".")[0])
                if target is not None and target > layer:
                    violations.append(
                        f"{path.relative_to(REPO)}:{line}: imports {module} (layer {target} > {layer})"
                    )
    assert not violations, "\n".join(violations)


def test_the_layering_test_sees_function_level_imports(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from lowering.c_model import emit_model\n    import tt.tools\n")
    assert [module for _, module in _imports(probe)] == ["lowering.c_model", "tt.tools"]

