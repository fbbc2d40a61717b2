"""Reading tt IR: the dialect context, a parser that records each op's file:line:col, and
located verification (`file:line:col: error: 'tt.conv2d' op ...`, as mlir-opt reports)."""

from __future__ import annotations

import io
import re
import struct
from pathlib import Path

import numpy as np
from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.arith import Arith
from xdsl.dialects.builtin import Builtin, FileLineColLoc, IntAttr, ModuleOp, StringAttr, UnknownLoc
from xdsl.dialects.func import Func
from xdsl.ir import Operation
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import DiagnosticException, ParseError, VerifyException
from xdsl.utils.mlir_lexer import MLIRLexer

from ttdialect.dialect import TT
from ttdialect.errors import TTError


class LocatedVerifyError(VerifyException):
    """A verifier failure with the op's source location in its message."""


DIALECTS = (Builtin, Func, Arith, TT)

STRING_LITERAL = re.compile(r'"(?:[^"\\\n\v\f]|\\(?:["nt\\]|[0-9A-Fa-f]{2}))*"')
"""The pinned xDSL's string-literal pattern, `"(?:[^"\\...]+|\\...)*"`, nests a `+` inside a
`*`: on a `"` that is never closed it backtracks exponentially in the length of the line (a
stray quote hung every IR-reading tool). This one matches the same strings one character per
repetition, so it fails in linear time; ir_io installs it on xDSL's lexer when imported."""
MLIRLexer._unescaped_characters_regex = STRING_LITERAL


def make_context() -> Context:
    """A context with every dialect tt IR uses: builtin, func, arith, tt."""
    ctx = Context()
    for dialect in DIALECTS:
        ctx.load_dialect(dialect)
    return ctx


class LocatingParser(Parser):
    """A Parser that gives every op without an explicit `loc(...)` its file:line:col."""

    line_offset: int = 0

    def parse_operation(self) -> Operation:
        start = self._current_token.span
        try:
            op = super().parse_operation()
        except VerifyException as error:  # an attribute or type that does not verify
            raise ParseError(start, str(error)) from None
        except (OverflowError, ValueError, struct.error) as error:  # e.g. a literal f32 cannot hold
            raise ParseError(start, f"invalid attribute value: {error}") from None
        if isinstance(op.location, UnknownLoc):
            where = start.get_location()
            op.location = FileLineColLoc(
                StringAttr(where.file), IntAttr(where.line + self.line_offset), IntAttr(where.col)
            )
        return op


def describe_location(op: Operation) -> str:
    loc = op.location
    if isinstance(loc, FileLineColLoc):
        return f"{loc.filename.data}:{loc.line.data}:{loc.column.data}"
    return "<unknown location>"


def verify_located(module: ModuleOp) -> None:
    """Verify every op in walk order (parents before children); raise LocatedVerifyError for the first
    bad op with the first line of its message (xDSL appends an IR dump after it)."""
    for op in module.walk():
        try:
            op.verify(verify_nested_ops=False)
        except DiagnosticException as error:
            message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise LocatedVerifyError(f"{describe_location(op)}: error: '{op.name}' op {message}") from None
    _verify_defined_before_use(module)


def _verify_defined_before_use(module: ModuleOp) -> None:
    """Within a block, an op's operands must come from earlier ops (or the block's arguments or an
    enclosing block): the pinned xDSL does not check dominance, and running such IR fails later."""
    for parent in module.walk():
        for region in parent.regions:
            for block in region.blocks:
                seen: set[Operation] = set()
                for op in block.ops:
                    for operand in op.operands:
                        owner = operand.owner
                        local = isinstance(owner, Operation) and owner.parent_block() is block
                        if local and owner not in seen:
                            raise LocatedVerifyError(
                                f"{describe_location(op)}: error: '{op.name}' op uses the result of "
                                f"'{owner.name}' ({describe_location(owner)}) before it is defined"
                            )
                    seen.add(op)


def parse_text(ctx: Context, text: str, name: str, line_offset: int = 0) -> ModuleOp:
    """Parse IR text; ParseError carries file:line:col and the offending source line."""
    parser = LocatingParser(ctx, text, name)
    parser.line_offset = line_offset
    return parser.parse_module()


def load_module(path: Path, ctx: Context | None = None) -> ModuleOp:
    """Read, parse and verify an IR file, turning every failure into a TTError."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise TTError(f"{path}: no such file") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as error:
        raise TTError(f"{path}: cannot read: {error}") from None
    try:
        module = parse_text(ctx or make_context(), text, str(path))
    except ParseError as error:
        raise TTError(str(error)) from None
    try:
        verify_located(module)
        module.verify()
    except VerifyException as error:
        raise TTError(str(error)) from None
    return module


def find_function(module: ModuleOp, name: str) -> func.FuncOp | None:
    """The module's `func.func @name`, or None."""
    for op in module.ops:
        if isinstance(op, func.FuncOp) and op.sym_name.data == name:
            return op
    return None


def read_npz(path: Path, what: str = ".npz archive") -> dict[str, np.ndarray]:
    """Every array of an .npz file (no pickles), or a TTError saying why it cannot be read: a
    damaged archive fails in many layers (zip, zlib, the .npy header), all reported alike."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise TTError(f"{path}: expected an {what} (.npz), got a single .npy array")
            return {key: archive[key] for key in archive.files}
    except FileNotFoundError:
        raise TTError(f"{path}: no such file") from None
    except TTError:
        raise
    except Exception as error:
        detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise TTError(f"{path}: not a readable {what} ({detail})") from None


def module_text(module: ModuleOp) -> str:
    """The custom-form text of a module, as tt-opt prints it."""
    stream = io.StringIO()
    Printer(stream=stream).print_op(module)
    return stream.getvalue() + "\n"
