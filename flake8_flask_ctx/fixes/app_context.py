"""Strategy 3, app context: the worker pushes the app's context itself.

For app-bound needs that can neither be hoisted nor copied (an extension object such as
``db.session``, several workers), the worker body runs in ``with app.app_context():``.

- A closure or lambda made in the view gets the app the request is served by:
  ``app = current_app._get_current_object()``, assigned just before the spawn. Safe.
- A module-level worker has no such local. It can push the module's own ``app = Flask(...)``
  safely only when the spawning view is a route of that very app; under a blueprint or an
  app factory another app may serve the request, so the rewrite is unsafe there.
- A task queue's task or a scheduled job (module-level, by necessity: it is imported by the
  worker process, or named by the scheduler) pushes the module's own ``app``: the worker
  that imports the module builds that very app, so there is no other app it could mean.
  Unsafe all the same: the function can also be called directly, in a request, where it
  would now get a new app context (a fresh ``g``, a database session of its own).

Never for workers that need the request (an app context carries none), use ``g`` (it would
be a fresh one) or ``url_for`` without ``SERVER_NAME``.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from ..analysis.model import BindingKind, ScopeKind
from ..analysis.tree import dotted_name
from ..analysis.workers import SpawnSite
from ..catalogue.contexts import Need
from ..catalogue.flask_names import CURRENT_APP, FLASK_APP, G, VIEW_DECORATORS
from ..catalogue.spawners import Kind
from ..options import match_dotted
from .applicability import SAFE, Applicability, unsafe
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


def _routes_of(ctx: FixContext, fn, app: str) -> bool:
    """Is ``fn`` a view registered on the module-level ``app`` (``@app.route(...)``)?"""
    for decorator in fn.decorators:
        func = decorator.func if isinstance(decorator, cst.Call) else decorator
        name = dotted_name(func) or ""
        if name.split(".")[0] == app and any(match_dotted(p, name) for p in VIEW_DECORATORS):
            return True
    return False


def plan_app_context(ctx: FixContext, site: SpawnSite, allow_unsafe: bool = False) -> Optional[Applicability]:
    workers = ctx.analysis.workers
    queued = site.spawner.kind in (Kind.TASK, Kind.JOB)
    needing = [t for t in site.targets if not t.copied and workers.needs(t.function, site.given)]
    if not needing or (site.owner is None and not queued) or site.thread_class is not None:
        return None
    for t in needing:
        needs = workers.needs(t.function)
        if Need.REQUEST in needs or not isinstance(t.function.node, cst.FunctionDef):
            return None
        for r in workers.reach(t.function):
            use = workers.context_use(r.ref)
            if use is not None and not workers.satisfied(use, frozenset({Need.APP})):
                return None  # url_for without SERVER_NAME needs a request
            if use is not None and use.qualname == G:
                return None  # the new context's g is empty
    app = _module_app(ctx)
    anchor = ctx.parents.statement_of(site.node)  # just before the spawn, in the request
    choices = []
    verdict = SAFE
    for target in needing:
        fn = target.function
        if fn.parent.kind is ScopeKind.MODULE:
            if app is None or app in fn.scope.bindings:
                return None  # would need a new parameter; leave the finding
            if queued:
                verdict = verdict & unsafe(f"a direct call of {fn.name}() in a request would now run in a new "
                                           "app context: a fresh g and a database session of its own")
            elif not _routes_of(ctx, site.owner, app):
                verdict = verdict & unsafe(f"{fn.name}() would push the module's {app}, which may not be "
                                           "the app serving the request (a blueprint, an app factory)")
            choices.append((fn, app, None))
        else:
            if queued or anchor is None or not ctx.spawner_has_context(site):
                return None  # current_app is only bound where the spawner has a context
            taken = set(fn.scope.bindings) | set(site.owner.scope.bindings) | set(ctx.analysis.facts.scope.bindings)
            name = unique("app" if "app" not in taken else "real_app", taken)
            choices.append((fn, name, anchor))
    if not (verdict.safe or allow_unsafe):
        return verdict
    if not ctx.plan.claim(site.node, *(t.function.node for t in needing)):
        return None
    ctx.applicability = verdict
    for fn, name, insert_before in choices:
        if insert_before is not None:
            assign = cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(name))], _current_app_object())])
            ctx.plan.insert_before.setdefault(id(insert_before), []).append(assign)
            ctx.plan.imports.add(tuple(CURRENT_APP.rsplit(".", 1)))
        ctx.plan.wrap_body[id(fn.node)] = cst.Call(cst.Attribute(cst.Name(name), cst.Name("app_context")))
        ctx.note(site, f"{fn.name}() now runs in 'with {name}.app_context():'")
    return verdict
