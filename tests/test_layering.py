"""Dependencies point one way: ttdialect <- passes <- lowering <- tt (API and tools), and the
C runtime's files form layers without call cycles.

Every import in every module of the four packages (at the top or inside a function) is read with
`ast`; an import of a higher layer fails the test, naming the file and line. In runtime_c/src, a
file calls another when it calls a `tt_` function defined there, directly or through a static
inline function of an internal header (tt_weight_row, say); the calls between files must form no
cycle, of two files or longer (runtime_c/README.md lists the layers).
"""

from __future__ import annotations

import ast
import re
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



def _defined_functions(source: str) -> set[str]:
    return set(re.findall(r"^[a-z_][\w \*]*?\b(tt_\w+)\(", source, re.M))


def _without_comments(source: str) -> str:
    return re.sub(r"/\*.*?\*/", "", source, flags=re.S)


def _called(source: str) -> set[str]:
    return set(re.findall(r"\b(tt_\w+)\(", source))


def _header_inlines(headers: list[str]) -> dict[str, set[str]]:
    """Each static inline function of the headers and the `tt_` functions its body calls."""
    inlines: dict[str, set[str]] = {}
    for header in headers:
        text = _without_comments(header)
        for match in re.finditer(r"^static\s+inline\b[^;{]*?\b(tt_\w+)\([^;{]*\{", text, re.M):
            depth, end = 1, match.end()
            while depth and end < len(text):
                depth += {"{": 1, "}": -1}.get(text[end], 0)
                end += 1
            inlines[match.group(1)] = _called(text[match.end() : end]) - {match.group(1)}
    return inlines


def _file_calls(sources: dict[str, str], headers: list[str]) -> dict[str, set[str]]:
    """For each runtime source, the other sources whose functions it calls (through inlines too)."""
    defined = {name: _defined_functions(text) for name, text in sources.items()}
    inlines = _header_inlines(headers)
    calls: dict[str, set[str]] = {}
    for name, text in sources.items():
        used = _called(_without_comments(text))
        pending = list(used & inlines.keys())
        while pending:
            for function in inlines[pending.pop()] - used:
                used.add(function)
                pending += [function] if function in inlines else []
        calls[name] = {other for other, functions in defined.items() if other != name and used & functions}
    return calls


def _cycles(calls: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (a list of files, the first repeated at the end) through each file that is on one."""
    found: list[list[str]] = []
    on_cycle: set[str] = set()
    for start in sorted(calls):
        if start in on_cycle:
            continue
        path = [start]
        stack = [iter(sorted(calls[start]))]
        while stack:
            step = next(stack[-1], None)
            if step is None:
                stack.pop()
                path.pop()
            elif step == start:
                found.append([*path, start])
                on_cycle.update(path)
                break
            elif step not in path:
                path.append(step)
                stack.append(iter(sorted(calls.get(step, set()))))
    return found


def test_c_runtime_files_call_each_other_without_cycles() -> None:
    src = REPO / "runtime_c" / "src"
    sources = {path.name: path.read_text() for path in sorted(src.glob("*.c"))}
    headers = [path.read_text() for path in sorted(src.glob("*.h"))]
    calls = _file_calls(sources, headers)
    mutual = [f"{a} <-> {b}" for a in calls for b in calls[a] if a < b and a in calls.get(b, set())]
    assert not mutual, "runtime files that call each other: " + ", ".join(mutual)
    cycles = [" -> ".join(cycle) for cycle in _cycles(calls)]
    assert not cycles, "runtime files that call each other in a cycle: " + "; ".join(cycles)


def test_the_c_layering_test_sees_inline_calls_and_longer_cycles() -> None:
    sources = {
        "a.c": "void tt_a(void)\n{\n    tt_b(); /* tt_c() */\n}\n",
        "b.c": "void tt_b(void)\n{\n    tt_via_header();\n}\n",
        "c.c": "int tt_c(void)\n{\n    tt_a();\n    return 0;\n}\n",
        "d.c": "int tt_d(void)\n{\n    return tt_c();\n}\n",
    }
    header = "static inline int tt_via_header(void)\n{\n    return tt_c();\n}\n"
    calls = _file_calls(sources, [header])
    assert calls == {"a.c": {"b.c"}, "b.c": {"c.c"}, "c.c": {"a.c"}, "d.c": {"c.c"}}
    assert _cycles(calls) == [["a.c", "b.c", "c.c", "a.c"]]
    assert _cycles({"a.c": {"b.c"}, "b.c": set()}) == []
