"""The string-literal guard of ttdialect/ir_io.py: the pinned xDSL lexer's pattern backtracks
exponentially on an unclosed `"`; tt's replacement must match exactly the same literals and fail
in linear time."""

from __future__ import annotations

import random
import re
import subprocess
from pathlib import Path

from ttdialect.ir_io import STRING_LITERAL

XDSL_PATTERN = re.compile(r'"(?:[^"\\\n\v\f]+|\\(?:["nt\\]|[0-9A-Fa-f]{2}))*"')  # the oracle (short inputs)


def test_same_matches_as_xdsl_on_short_inputs() -> None:
    rng = random.Random(0)
    alphabet = ['"', "\\", "n", "t", "a", "F", "0", "9", "\n", "\v", " ", "é", "g"]
    for _ in range(20000):
        text = '"' + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        ours, theirs = STRING_LITERAL.match(text), XDSL_PATTERN.match(text)
        assert (ours and ours.span()) == (theirs and theirs.span()), repr(text)


def test_unclosed_quote_on_a_long_line_fails_fast(tmp_path: Path) -> None:
    source = tmp_path / "quote.mlir"
    source.write_text('builtin.module {\n  "' + "abc " * 5000 + "\n}\n")
    done = subprocess.run(["tt-opt", str(source)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "closing string literal" in done.stderr and "Traceback" not in done.stderr
