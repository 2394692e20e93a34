"""The fix strategies as libcst codemod commands.

    python -m libcst.tool codemod -x flake8_flask_ctx.fixes.codemods.FixFlaskContext PATH
    python -m libcst.tool codemod -x flake8_flask_ctx.fixes.codemods.HoistContextReads PATH

Each command runs the same ``fix_source`` as ``flask-ctx fix``, limited to its strategies,
so linting, ``flask-ctx fix`` and the codemods share one path and cannot disagree.
"""

from __future__ import annotations

from typing import ClassVar

import libcst as cst
from libcst.codemod import CodemodCommand, SkipFile

from . import fix_source


class _FlaskContextCommand(CodemodCommand):
    STRATEGIES: ClassVar[frozenset[str]] = frozenset()

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        result = fix_source(tree.code, strategies=self.STRATEGIES)
        if not result.changed:
            raise SkipFile("no Flask context fix applies")
        for fix in result.applied:
            self.context.warnings.append(f"line {fix.line}: {fix.code} {fix.description}")
        return cst.parse_module(result.source)


class FixFlaskContext(_FlaskContextCommand):
    DESCRIPTION = "Apply every flake8-flask-ctx fix: hoist, copy per worker, app context, streams."
    STRATEGIES = frozenset({"hoist", "copy", "app-context", "stream", "proxy"})


class HoistContextReads(_FlaskContextCommand):
    DESCRIPTION = "Move request/g/current_app reads out of workers into arguments (the preferred fix)."
    STRATEGIES = frozenset({"hoist"})


class CopyRequestContext(_FlaskContextCommand):
    DESCRIPTION = ("Insert copy_current_request_context where it is correct: closures run by one "
                   "worker, call-site wraps for module-level targets, one copy per task in loops.")
    STRATEGIES = frozenset({"copy"})


class PushAppContext(_FlaskContextCommand):
    DESCRIPTION = "Run workers that only need the app in 'with app.app_context():'."
    STRATEGIES = frozenset({"app-context"})


class StreamWithContext(_FlaskContextCommand):
    DESCRIPTION = "Wrap streamed generators that use the request in stream_with_context()."
    STRATEGIES = frozenset({"stream"})
