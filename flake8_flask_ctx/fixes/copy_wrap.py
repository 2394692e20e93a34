"""Strategy 2, copy per worker, and FCX200's removal of copies made outside a request.

Where hoisting is impossible (reads through helpers, ``url_for`` with worker-local
arguments), give each worker its own copy of the request context, made in the request:
``@copy_current_request_context`` on a closure that exactly one spawn runs, or a wrap at
the spawn site (``Thread(target=copy_current_request_context(f))``) for anything else,
which inside a loop makes one copy per task. Never for ``map`` variants (one wrapper
for all tasks) nor for workers that use ``g`` (the copy's ``g`` is empty).
"""

from __future__ import annotations

import libcst as cst

from ..analysis.model import ScopeKind
from ..analysis.workers import SpawnSite, Target
from ..findings import Finding
from .context import COPY_IMPORT, FixContext

COPY = "copy_current_request_context"


def _uses_g(ctx: FixContext, target: Target) -> bool:
    return any((u := ctx.analysis.workers.context_use(r.ref)) is not None and u.qualname == "flask.g"
               for r in ctx.analysis.workers.reach(target.function))


def _wrap(expr: cst.BaseExpression) -> cst.Call:
    return cst.Call(cst.Name(COPY), [cst.Arg(expr)])


def plan_copy(ctx: FixContext, site: SpawnSite) -> bool:
    if site.spec.fan_out or not ctx.spawner_has_context(site):
        return False
    needing = [t for t in site.targets if not t.copied and ctx.analysis.workers.needs(t.function)]
    if not needing or any(_uses_g(ctx, t) for t in needing):
        return False
    if site.thread_class is not None and any(t.function is site.targets[0].function for t in needing):
        return False  # run() itself: a decorator on it would be evaluated at import (FCX200)
    shared = sum(1 for other in ctx.analysis.spawn_sites for t in other.targets
                 if any(t.function is n.function for n in needing))
    if not ctx.plan.claim(site.node, *(t.function.node for t in needing)):
        return False
    for target in needing:
        fn = target.function
        closure = (isinstance(fn.node, cst.FunctionDef)
                   and ctx.analysis.resolver.enclosing_function(fn.parent) is site.owner)
        if closure and not site.call.in_loop and shared == 1:
            ctx.plan.add_decorators[id(fn.node)] = [cst.Decorator(cst.Name(COPY))]
            ctx.note(site, f"decorated {fn.name}() with @{COPY} (one worker runs it)")
        else:
            ctx.plan.replace[id(target.expr)] = _wrap(target.expr)
            per = " per task" if site.call.in_loop else ""
            ctx.note(site, f"wrapped the target in {COPY}(...) at the spawn site{per}")
    ctx.plan.imports.add(COPY_IMPORT)
    return True


def remove_copy_outside_request(ctx: FixContext, finding: Finding) -> bool:
    """FCX200: drop a decorator (or unwrap a call) evaluated at import or start-up time.

    The spawn sites of the now-plain function are fixed in the next round, by a hoist or a
    call-site wrap inside the view.
    """
    node = finding.node
    scope = finding.detail.parent if finding.detail is not None else None  # decorated function
    if scope is None and isinstance(node, cst.Call):
        site = ctx.analysis.workers.call_site(node)
        scope = site.scope if site is not None else None
    if scope is None or scope.kind is not ScopeKind.MODULE:
        return False  # class bodies, app factories, CLI commands never have a request: redesign
    if not ctx.plan.claim(node):
        return False
    if isinstance(node, cst.Decorator):
        ctx.plan.replace[id(node)] = None
    elif isinstance(node, cst.Call) and node.args:
        ctx.plan.replace[id(node)] = node.args[0].value
    else:
        return False
    ctx.unused_imports.add(COPY_IMPORT)
    ctx.note(finding, f"removed {COPY} evaluated outside a request; its spawns get a hoist or a wrap")
    return True
