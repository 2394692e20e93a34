"""FCX300: Flask's removed context internals, and homemade context copiers.

Recipes from before Flask 2.2 reach into ``_app_ctx_stack``, which Flask 3.0 removed
(runtime facts, "How context handling changed"); a copier that captures one context object
and enters it in every call races like FCX201 does. Private names that still exist are
FCX301. Reported at the import (once per name) or at a ``module.attribute`` access, except
in a compatibility idiom (``internal_uses``).
"""

from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from ..analysis import ModuleAnalysis
from ..analysis.model import BindingKind, FunctionInfo, ScopeKind, WithItem
from ..catalogue.flask_names import CONTEXT_PUSHERS
from ..catalogue.internals import INTERNALS, SHARED_CONTEXT_RACE
from ..findings import Finding
from .base import Level, Rule
from .details import InternalUse
from .internal_uses import internal_uses


def check(analysis: ModuleAnalysis) -> Iterator[Finding]:
    for node, name in internal_uses(analysis):
        internal = INTERNALS[name]
        if internal.removed:
            short = name.split(".", 1)[1]
            yield RULE.finding(analysis, node, InternalUse(name), what=f"{short} is a Flask internal",
                               why=internal.status)
    for fn in analysis.functions:
        for item in fn.with_items:
            captured = _captured_context(analysis, fn, item)
            if captured is not None:
                what = (f"{fn.display}() enters the context object '{captured}' captured once "
                        f"by its enclosing function")
                yield RULE.finding(analysis, item.expr, InternalUse(captured), what=what, why=SHARED_CONTEXT_RACE)


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
    "removed Flask context internals and homemade context copiers",
    "{what}: {why}; pass values and push 'with app.app_context():' in the worker, or "
    "copy_current_request_context once per task",
    check,
    level=Level.WARNING,
)

