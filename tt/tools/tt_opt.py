"""`tt-opt`: the xdsl-opt driver with the tt dialect, its passes and targets.

Bad input (missing file, malformed IR, failing verifier, unknown pass) is reported as one
located message on stderr with exit status 1, never a traceback.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.exceptions import ArgSpecParseError, DiagnosticException, ParseError
from xdsl.utils.target import Target
from xdsl.xdsl_opt_main import xDSLOptMain

from passes import get_all_passes, quote_path_values
from ttdialect.errors import TTError
from ttdialect.ir_io import DIALECTS, parse_text, verify_located
from ttdialect.outputs import Outputs
from ttdialect.weights import relocate_weights_file, set_ir_directory


class _HeldOutput(io.StringIO):
    """Output held in memory until the whole run succeeded (closing keeps the text)."""

    def close(self) -> None:
        pass


class TTOptMain(xDSLOptMain):
    """xDSLOptMain with tt's dialects, passes and targets, and located diagnostics.

    With `-o FILE`, FILE is written only once every chunk succeeded, never half-written.
    """

    _chunk_line_offset = 0
    _held: _HeldOutput | None = None

    def prepare_output(self) -> IO[str]:
        if self.args.output_file is None:
            return sys.stdout
        self._held = _HeldOutput()
        return self._held

    def run(self) -> None:
        inputs = [self.args.input_file] if self.args.input_file not in (None, "-") else []
        outputs = Outputs(inputs)
        if self.args.output_file is not None:
            outputs.check_file(self.args.output_file)  # refused before any work
        super().run()
        if self._held is not None:
            with outputs:
                outputs.file(self.args.output_file, self._held.getvalue())

    def register_all_dialects(self) -> None:
        for dialect in DIALECTS:
            self.ctx.load_dialect(dialect)

    def register_all_passes(self) -> None:
        for name, factory in get_all_passes().items():
            self.register_pass(name, factory)

    def register_all_targets(self) -> None:
        super().register_all_targets()

        def memory_report() -> type[Target]:
            from passes.memory.target import MemoryReportTarget

            return MemoryReportTarget

        def c_sources() -> type[Target]:
            from lowering.c_target import CTarget

            return CTarget

        self.available_targets["memory-report"] = memory_report
        self.available_targets["c"] = c_sources

    def register_all_frontends(self) -> None:
        def parse_mlir(io: IO[bytes]) -> ModuleOp:
            text = io.read().decode("utf-8", errors="replace")
            return parse_text(self.ctx, text, self.get_input_name(), self._chunk_line_offset)

        self.available_frontends["mlir"] = parse_mlir

    def parse_chunk(self, chunk: IO[bytes], file_extension: str, start_offset: int = 0) -> ModuleOp | None:
        self._chunk_line_offset = start_offset
        return super().parse_chunk(chunk, file_extension, start_offset)

    def setup_pipeline(self) -> None:
        self.args.passes = quote_path_values(self.args.passes)
        super().setup_pipeline()

    def apply_passes(self, prog: ModuleOp) -> None:
        if not self.args.disable_verify:
            verify_located(prog)
        input_dir = Path(self.args.input_file).parent if self.args.input_file else Path(".")
        set_ir_directory(input_dir)
        super().apply_passes(prog)
        if self.args.output_file is not None:
            relocate_weights_file(prog, input_dir, Path(self.args.output_file).parent)


def _fail(message: str) -> None:
    print(message.rstrip(), file=sys.stderr)
    sys.exit(1)


def quote_target_options(argv: Sequence[str]) -> list[str]:
    """Quote path-like option values of `-t target{...}` before xDSL parses the target spec."""
    quoted = list(argv)
    for index, arg in enumerate(quoted):
        if index > 0 and quoted[index - 1] in ("-t", "--target"):
            quoted[index] = quote_path_values(arg)
        elif arg.startswith("--target="):
            quoted[index] = quote_path_values(arg)
    return quoted


VALUE_OPTIONS = ("-o", "--output-file", "-p", "--passes", "-t", "--target", "-f", "--frontend")


def _without_stdin_dash(argv: list[str]) -> list[str]:
    """`tt-opt -` reads standard input, as tt-opt without an input file does (xDSL would look for
    a file named '-'); a '-' that is an option's value is left alone."""
    return [arg for i, arg in enumerate(argv) if arg != "-" or (i > 0 and argv[i - 1] in VALUE_OPTIONS)]


def main(argv: Sequence[str] | None = None) -> None:
    argv = quote_target_options(sys.argv[1:] if argv is None else argv)
    argv = _without_stdin_dash(argv)
    try:
        TTOptMain(description="tt modular optimizer driver", args=argv).run()
    except (ParseError, ArgSpecParseError) as error:
        _fail(str(error))
    except DiagnosticException as error:
        _fail(str(error))
    except TTError as error:
        _fail(f"tt-opt: error: {error}")
    except OSError as error:
        _fail(f"tt-opt: error: {error.strerror}: '{error.filename}'")
    except ValueError as error:
        _fail(f"tt-opt: error: {error}")
    except Exception as error:  # a bug in tt, not bad input: still one line, and a non-zero status
        print(f"tt-opt: internal error: {type(error).__name__}: {error} (please report it)", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv[1:])
