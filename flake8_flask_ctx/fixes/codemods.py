"""The fix strategies as libcst codemod commands.

    python -m libcst.tool codemod -x flake8_flask_ctx.fixes.codemods.FixFlaskContext PATH
    python -m libcst.tool codemod -x flake8_flask_ctx.fixes.codemods.HoistContextReads PATH

Each command runs the same ``fix_source`` as ``flask-ctx fix``, limited to its strategies,
so linting, ``flask-ctx fix`` and the codemods share one path and cannot disagree. Like
``fix``, they apply safe fixes only, unless given ``--unsafe-fixes``.

Each applied fix is reported on stderr as ``flask-ctx fix`` reports it
(``PATH:LINE:COL: CODE fixed (safe): ...``), not as a codemod warning: a successful run
must not end with "6 warnings were generated". Warnings are kept for what deserves one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import ClassVar

import libcst as cst
from libcst.codemod import CodemodCommand, CodemodContext, SkipFile

from ..config import ConfigError, find_line_length
from ..options import DEFAULT_MAX_LINE_LENGTH, Options
from ..rules import FixKind
from . import fix_source


class _FlaskContextCommand(CodemodCommand):
    FIXES: ClassVar[frozenset[FixKind]] = frozenset()

    def __init__(self, context: CodemodContext, unsafe_fixes: bool = False) -> None:
        super().__init__(context)
        self.unsafe_fixes = unsafe_fixes

    @staticmethod
    def add_args(arg_parser: argparse.ArgumentParser) -> None:
        arg_parser.add_argument("--unsafe-fixes", action="store_true",
                                help="also apply the fixes that cannot be proven to keep behaviour")

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        result = fix_source(tree.code, Options(max_line_length=self._line_length()), fixes=self.FIXES,
                            unsafe=self.unsafe_fixes, path=self.context.filename)
        if not result.changed:
            raise SkipFile("no Flask context fix applies")
        name = self.context.filename or "<module>"
        lines = [f"{name}:{fix.line}:{fix.col + 1}: {fix.code} fixed ({fix.applicability}): "
                 f"{fix.description}\n" for fix in sorted(result.applied, key=lambda a: (a.line, a.col, a.code))]
        self.context.scratch.setdefault("flake8_flask_ctx.applied", []).extend(result.applied)
        sys.stderr.write("".join(lines))  # one write per file: lines from parallel jobs stay whole
        sys.stderr.flush()
        return cst.parse_module(result.source)

    def _line_length(self) -> int:
        """The project's line length (``config.find_line_length``), from the file's directory."""
        filename = self.context.filename
        start = Path(filename).resolve().parent if filename else Path.cwd()
        try:
            return find_line_length(start)
        except ConfigError as exc:
            self.context.warnings.append(f"{exc}; using {DEFAULT_MAX_LINE_LENGTH}")
            return DEFAULT_MAX_LINE_LENGTH


class FixFlaskContext(_FlaskContextCommand):
    DESCRIPTION = "Apply every flake8-flask-ctx fix: hoist, copy per worker, app context, streams."
    FIXES = frozenset(FixKind)


class HoistContextReads(_FlaskContextCommand):
    DESCRIPTION = "Move request/g/current_app reads out of workers into arguments (the preferred fix)."
    FIXES = frozenset({FixKind.HOIST, FixKind.MOVE_COPY_INTO_VIEW})


class CopyRequestContext(_FlaskContextCommand):
    DESCRIPTION = ("Insert copy_current_request_context where it is correct: closures run by one "
                   "worker, call-site wraps for module-level targets, one copy per task in loops.")
    FIXES = frozenset({FixKind.COPY_PER_WORKER, FixKind.MOVE_COPY_INTO_VIEW})


class PushAppContext(_FlaskContextCommand):
    DESCRIPTION = "Run workers that only need the app in 'with app.app_context():'."
    FIXES = frozenset({FixKind.APP_CONTEXT})


class StreamWithContext(_FlaskContextCommand):
    DESCRIPTION = "Wrap streamed generators that use the request in stream_with_context()."
    FIXES = frozenset({FixKind.STREAM_WITH_CONTEXT})
