"""FCX200: ``copy_current_request_context`` evaluated where no request can be active.

The decorator (or call) runs when its line runs: at import for module level and class
bodies, at start-up for app factories and CLI commands. None of those has a request, so
Flask raises at once (runtime facts, cases 4a and 4b). Plain functions are not flagged:
whether a request is active there depends on the caller (a plain worker that evaluates
the decorator is reported by FCX100 at its spawn site).
"""

from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from ..analysis import ModuleAnalysis
from ..analysis.model import FunctionInfo, Scope, ScopeKind
from ..analysis.tree import dotted_name
from ..catalogue.flask_names import COPY_REQUEST_CONTEXT, FLASK_APP, NO_REQUEST_DECORATORS
from ..findings import Finding
from ..options import match_dotted
from .base import FixKind, Rule
from .details import CopyOutsideRequest


def _no_request_place(analysis: ModuleAnalysis, scope: Scope) -> Optional[str]:
    """Describe ``scope`` when code running there can have no request, else None."""
    while scope.kind is ScopeKind.COMPREHENSION and scope.parent is not None:
        scope = scope.parent
    if scope.kind is ScopeKind.MODULE:
        return "at module level (import time)"
    if scope.kind is ScopeKind.CLASS and scope.cls is not None:
        return f"in the body of class {scope.cls.name} (import time)"
    fn = scope.function
    if fn is None or scope.kind is not ScopeKind.FUNCTION:
        return None
    if any(analysis.resolver.qualname(c.node.func, c.scope) == FLASK_APP for c in fn.calls):
        return f"in the app factory {fn.name}()"
    for decorator in fn.decorators:
        func = decorator.func if isinstance(decorator, cst.Call) else decorator
        names = [n for n in (dotted_name(func), analysis.resolver.qualname(func, fn.parent)) if n]
        if any(match_dotted(p, n) for p in NO_REQUEST_DECORATORS for n in names):
            return f"in {fn.name}(), a CLI command or app-context hook"
    return None


def _is_copy(analysis: ModuleAnalysis, expr: cst.BaseExpression, scope: Scope) -> bool:
    return analysis.resolver.qualname(expr, scope) == COPY_REQUEST_CONTEXT


def check(analysis: ModuleAnalysis) -> Iterator[Finding]:
    for fn in analysis.functions:
        if isinstance(fn.node, cst.FunctionDef):
            yield from _decorator_findings(analysis, fn)
    for call, _owner in analysis.workers.all_calls():
        if _is_copy(analysis, call.node.func, call.scope):
            where = _no_request_place(analysis, call.scope)
            if where is not None:
                name = dotted_name(call.node.args[0].value) if call.node.args else None
                yield RULE.finding(analysis, call.node, CopyOutsideRequest(call.scope), where=where,
                                   name=name or "f")


def _decorator_findings(analysis: ModuleAnalysis, fn: FunctionInfo) -> Iterator[Finding]:
    assert isinstance(fn.node, cst.FunctionDef)
    for decorator in fn.node.decorators:
        if not _is_copy(analysis, decorator.decorator, fn.parent):
            continue
        where = _no_request_place(analysis, fn.parent)
        if where is not None:
            yield RULE.finding(analysis, decorator, CopyOutsideRequest(fn.parent, fn), where=where, name=fn.name)


RULE = Rule(
    "FCX200",
    "copy_current_request_context evaluated where no request is active",
    "copy_current_request_context is evaluated {where}, with no request to copy "
    "(RuntimeError); wrap at the spawn site in the view instead: "
    "copy_current_request_context({name})",
    check,
    fixes=(FixKind.MOVE_COPY_INTO_VIEW,),
)
