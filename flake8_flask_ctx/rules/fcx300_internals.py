"""FCX300: Flask's removed or private context internals, and homemade context copiers.

Recipes from before Flask 2.2 reach into ``_app_ctx_stack``; newer ones into the private
ContextVars. Each breaks on some version (runtime facts, "How context handling changed"),
and a copier that captures one context object and enters it in every call races like
FCX201 does.
Reported at the import (once per name) or at a ``module.attribute`` access.
"""

from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from ..analysis import ModuleAnalysis
from ..analysis.model import BindingKind, FunctionInfo, ScopeKind, WithItem
from ..catalogue.flask_names import CONTEXT_PUSHERS, canonical
from ..catalogue.internals import INTERNALS, SHARED_CONTEXT_RACE
from ..findings import Finding
from .base import Level, Rule
from .details import InternalUse


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
                    yield _internal_finding(analysis, b.node, name)
    for ref in analysis.facts.all_refs():
        name = _attribute_internal(analysis, ref)
        if name is not None:
            yield _internal_finding(analysis, ref.node, name)
    for fn in analysis.functions:
        for item in fn.with_items:
            captured = _captured_context(analysis, fn, item)
            if captured is not None:
                what = (f"{fn.display}() enters the context object '{captured}' captured once "
                        f"by its enclosing function")
                yield RULE.finding(analysis, item.expr, InternalUse(captured), what=what, why=SHARED_CONTEXT_RACE)


def _internal_finding(analysis: ModuleAnalysis, node, name: str) -> Finding:
    short = name.split(".", 1)[1]
    return RULE.finding(analysis, node, InternalUse(name), what=f"{short} is a Flask internal",
                        why=INTERNALS[name])


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
    scope = analysis.resolver.defining_scope(item.scope, name)
    if scope is None or scope is fn.scope or scope.kind is not ScopeKind.FUNCTION or scope.function is None:
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
                and value.func.attr.value in CONTEXT_PUSHERS:
            return name
    return None


RULE = Rule(
    "FCX300",
    "removed or private Flask context internals",
    "{what}: {why}. Use the public API: pass values and use 'with "
    "app.app_context():' in the worker, or copy_current_request_context once per task",
    check,
    level=Level.WARNING,
)

