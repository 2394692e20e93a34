"""Strategy 3, app context: the worker pushes the app's context itself.

For app-bound needs that can neither be hoisted nor copied (an extension object such as
``db.session``, several workers), the worker body runs in ``with app.app_context():``.
``app`` is the module's own ``app = Flask(...)`` when there is one; otherwise the spawner
passes ``current_app._get_current_object()``. Not for workers that need the request
(an app context carries none) or use ``g`` (it would be a fresh one).
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from ..analysis.model import BindingKind, ScopeKind
from ..analysis.workers import SpawnSite
from ..catalogue.contexts import Need
from ..catalogue.flask_names import CURRENT_APP, FLASK_APP, G
from .context import FixContext
from .naming import unique


def _module_app(ctx: FixContext) -> Optional[str]:
    scope = ctx.analysis.facts.scope
    for name, bindings in scope.bindings.items():
        if len(bindings) == 1 and bindings[0].kind is BindingKind.ASSIGN \
                and isinstance(bindings[0].value, cst.Call) \
                and ctx.analysis.resolver.qualname(bindings[0].value.func, scope) == FLASK_APP:
            return name
    return None


def _current_app_object() -> cst.Call:
    return cst.parse_expression("current_app._get_current_object()")  # type: ignore[return-value]


def plan_app_context(ctx: FixContext, site: SpawnSite) -> bool:
    workers = ctx.analysis.workers
    needing = [t for t in site.targets if not t.copied and workers.needs(t.function)]
    if not needing or site.owner is None or site.thread_class is not None:
        return False
    for t in needing:
        needs = workers.needs(t.function)
        if Need.REQUEST in needs or not isinstance(t.function.node, cst.FunctionDef):
            return False
        for r in workers.reach(t.function):
            use = workers.context_use(r.ref)
            if use is not None and not workers.satisfied(use, frozenset({Need.APP})):
                return False  # ``g`` (fresh in a new context) or url_for without SERVER_NAME
            if use is not None and use.qualname == G:
                return False
    if not ctx.plan.claim(site.node, *(t.function.node for t in needing)):
        return False
    app = _module_app(ctx)
    for target in needing:
        fn = target.function
        if app is not None and app not in fn.scope.bindings:
            name = app
        elif fn.parent.kind is ScopeKind.MODULE:
            return False  # would need a new parameter; leave the finding
        else:
            name = unique("app", set(fn.scope.bindings) | set(site.owner.scope.bindings))
            anchor = ctx.parents.statement_of(fn.node)
            if anchor is None:
                return False
            assign = cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(name))], _current_app_object())])
            ctx.plan.insert_before.setdefault(id(anchor), []).append(assign)
            ctx.plan.imports.add(tuple(CURRENT_APP.rsplit(".", 1)))
        ctx.plan.wrap_body[id(fn.node)] = cst.Call(cst.Attribute(cst.Name(name), cst.Name("app_context")))
        ctx.note(site, f"{fn.name}() now runs in 'with {name}.app_context():'")
    return True
