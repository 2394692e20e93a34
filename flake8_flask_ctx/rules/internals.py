"""FCX300: Flask's removed or private context internals, and homemade context copiers.

Recipes from before Flask 2.2 reach into ``_app_ctx_stack``; newer ones into the private
ContextVars. Each breaks on some version (flask-runtime.md §3, §6), and a copier that
captures one context object and enters it in every call races like FCX201 does.
Reported at the import (once per name) or at a ``module.attribute`` access.
"""

from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from ..analysis import ModuleAnalysis
from ..analysis.knowledge import PUSHES_APP, PUSHES_REQUEST, canonical
from ..analysis.model import BindingKind, FunctionInfo, ScopeKind, WithItem
from ..codes import message
from ..findings import Finding

_STACK = ("removed in Flask 3.0: ImportError on >= 3.0, DeprecationWarning on 2.2-2.3; "
          "entering .top from several threads races (AssertionError / ValueError)")
INTERNALS = {
    "flask._app_ctx_stack": _STACK,
    "flask._request_ctx_stack": _STACK,
    "flask._cv_request": "a private ContextVar: ImportError before 2.2 and again on 3.2, where it is gone",
    "flask._cv_app": ("a private ContextVar (ImportError before 2.2); a captured app context entered "
                      "by several threads fails with ValueError: <Token ...> was created in a different Context"),
    "flask.request_ctx": "private before 3.2, deprecated in 3.2 and removed in 4.0",
    "flask.RequestContext": "deprecated in Flask 3.2 (merged into AppContext), removed in 4.0",
}


def _internal(qualname: Optional[str]) -> Optional[str]:
    return canonical(qualname) if qualname and canonical(qualname) in INTERNALS else None


def _internal_prefix(qualname: Optional[str]) -> Optional[str]:
    """The internal that ``qualname`` goes through: ``flask._app_ctx_stack`` for ``....top``."""
    parts = (qualname or "").split(".")
    for i in range(2, len(parts) + 1):
        name = _internal(".".join(parts[:i]))
        if name is not None:
            return name
    return None


def check(analysis: ModuleAnalysis) -> Iterator[Finding]:
    for scope in analysis.facts.scopes:
        for bindings in scope.bindings.values():
            for b in bindings:
                name = _internal(b.qualname) if b.kind is BindingKind.IMPORT else None
                if name is not None:
                    line, col = analysis.position(b.node)
                    yield Finding("FCX300", line, col, _message(name), b.node)
    refs = [*analysis.facts.module_refs, *(r for fn in analysis.functions for r in fn.refs)]
    for ref in refs:
        name = _attribute_internal(analysis, ref)
        if name is not None:
            line, col = analysis.position(ref.node)
            yield Finding("FCX300", line, col, _message(name), ref.node)
    for fn in analysis.functions:
        for item in fn.with_items:
            captured = _captured_context(analysis, fn, item)
            if captured is not None:
                line, col = analysis.position(item.expr)
                what = (f"{fn.display}() enters the context object '{captured}' captured once "
                        f"by its enclosing function")
                why = ("every worker that runs it pushes the same object: ValueError: <Token ...> "
                       "was created in a different Context (2.2-3.1), AssertionError: Popped wrong "
                       "app context (<=2.1), RuntimeError: Cannot pop this context (3.2)")
                yield Finding("FCX300", line, col, message("FCX300", what=what, why=why), item.expr)


def _message(name: str) -> str:
    short = name.split(".", 1)[1]
    return message("FCX300", what=f"{short} is a Flask internal", why=INTERNALS[name])


def _attribute_internal(analysis: ModuleAnalysis, ref) -> Optional[str]:
    """``flask._app_ctx_stack.top``: an internal reached through a module attribute."""
    if not ref.attrs:
        return None
    base = analysis.resolver.qualname_of_name(ref.scope, ref.name)
    if base is None or _internal_prefix(base):
        return None  # the import itself is reported
    return _internal_prefix(".".join((base, *ref.attrs)))


def _captured_context(analysis: ModuleAnalysis, fn: FunctionInfo, item: WithItem) -> Optional[str]:
    """``with ctx:`` where ``ctx`` is a context object an enclosing function captured once."""
    if not isinstance(item.expr, cst.Name):
        return None
    name = item.expr.value
    if name in fn.scope.bindings:
        return None
    scope = fn.parent
    while scope is not None and scope.kind is not ScopeKind.MODULE:
        if name in scope.bindings:
            break
        scope = scope.parent
    if scope is None or scope.kind is not ScopeKind.FUNCTION or scope.function is None:
        return None
    returned = {r.value.value for r in scope.function.returns if isinstance(r.value, cst.Name)}
    if fn.name not in returned:
        return None  # not a copier: the enclosing function does not hand the inner one out
    for b in scope.bindings[name]:
        value = b.value
        if b.kind is not BindingKind.ASSIGN or value is None:
            continue
        # ``ctx = app.app_context()``; captures through internals are reported at their import
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) \
                and value.func.attr.value in PUSHES_APP | PUSHES_REQUEST:
            return name
    return None

